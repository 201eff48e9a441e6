"""Every Prometheus metric the platform exposes, defined in one place.

Dashboards and alert rules (deploy/grafana, the Helm chart) query these names, and a test checks
them against what the services expose, so a metric is added or renamed here and nowhere else.

Naming rules (enforced by tests/unit/observability/test_metrics.py):
- every name starts with ``scenarist_``; counters end in ``_total``; durations are histograms in
  seconds ending in ``_seconds``;
- labels are low-cardinality only: never a run, organization, scenario, task or message id.
  Values that come from users (module kinds, app names) go through :func:`label_value` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase

__all__ = [
    "CONTENT_TYPE_LATEST",
    "FORBIDDEN_LABELS",
    "METRICS",
    "REGISTRY",
    "Metrics",
    "label_value",
    "module_kind_family",
    "new_registry",
    "render_latest",
    "set_build_info",
]

# `_created` series double the series count and no dashboard of ours uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Label names that would explode cardinality; the naming test rejects them.
FORBIDDEN_LABELS = frozenset(
    {
        "run_id",
        "organization_id",
        "org_id",
        "scenario_id",
        "task_id",
        "event_id",
        "message_id",
        "webhook_id",
        "connection_id",
        "user_id",
        "trace_id",
    }
)

# Bucket sets per kind of latency, in seconds. Chosen so that the interesting percentiles
# (p50/p95/p99 in the dashboards) fall between buckets rather than all in the last one.
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TASK = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_RUN = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
_REMOTE = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)

_LABEL_RE = re.compile(r"[^a-z0-9_.-]+")
_MAX_LABEL_LEN = 48


def label_value(raw: str | None, *, default: str = "unknown") -> str:
    """Normalise a user-influenced label value (lowercase, safe characters, bounded length)."""
    if not raw:
        return default
    cleaned = _LABEL_RE.sub("_", raw.strip().lower()).strip("_")[:_MAX_LABEL_LEN]
    return cleaned or default


def module_kind_family(kind: str | None) -> str:
    """The app part of a module kind: ``"http:MakeRequest"`` → ``"http"``.

    Labels carry the family rather than the full kind because a deployment has a handful of apps
    but each app has many operations; per-operation series would multiply the executor dashboards.
    """
    if not kind:
        return "unknown"
    family, _, _ = kind.partition(":")
    return label_value(family)


def new_registry(*, process_metrics: bool = True) -> CollectorRegistry:
    """A fresh registry; with the standard process/python collectors for resource dashboards."""
    registry = CollectorRegistry(auto_describe=True)
    if process_metrics:
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
    return registry


@dataclass(frozen=True, slots=True)
class Metrics:
    """The platform's metric objects, bound to one registry."""

    # Runs (orchestrator)
    runs_started: Counter
    runs_finished: Counter
    run_duration: Histogram
    operations: Counter
    # Tasks (orchestrator dispatches, executors execute)
    tasks_dispatched: Counter
    tasks_executed: Counter
    task_duration: Histogram
    task_retries: Counter
    tasks_in_flight: Gauge
    task_slots: Gauge
    module_errors: Counter
    # Ingress (trigger)
    webhook_requests: Counter
    webhook_request_duration: Histogram
    schedules_fired: Counter
    # Bus
    bus_messages_consumed: Counter
    bus_messages_produced: Counter
    bus_batch_size: Histogram
    dlq_messages: Counter
    consumer_lag: Gauge
    # Storage and pools
    db_transaction_duration: Histogram
    db_pool_in_use: Gauge
    db_pool_size: Gauge
    redis_pool_in_use: Gauge
    redis_pool_size: Gauge
    # Connectors (connector-gateway / executor)
    connector_calls: Counter
    connector_call_duration: Histogram
    rate_limit_waits: Counter
    # gRPC servers (recorded by the tracing server interceptor)
    grpc_server_requests: Counter
    grpc_server_request_duration: Histogram
    # Identity
    build_info: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Metrics:
        """Register every platform metric on `registry`."""
        r = registry
        return cls(
            runs_started=Counter(
                "scenarist_runs_started_total",
                "Runs created, by what started them (webhook, schedule, manual, api).",
                ["trigger_source"],
                registry=r,
            ),
            runs_finished=Counter(
                "scenarist_runs_finished_total",
                "Runs that reached a final status (success, error, cancelled, warning).",
                ["status"],
                registry=r,
            ),
            run_duration=Histogram(
                "scenarist_run_duration_seconds",
                "End-to-end run latency, from the run request to its final status.",
                buckets=_RUN,
                registry=r,
            ),
            operations=Counter(
                "scenarist_operations_total",
                "Billable operations (module executions) performed.",
                registry=r,
            ),
            tasks_dispatched=Counter(
                "scenarist_tasks_dispatched_total",
                "Module tasks emitted by the orchestrator.",
                registry=r,
            ),
            tasks_executed=Counter(
                "scenarist_tasks_executed_total",
                "Module tasks finished by an executor, by app and outcome (ok, error, retry).",
                ["module_kind_family", "outcome"],
                registry=r,
            ),
            task_duration=Histogram(
                "scenarist_task_duration_seconds",
                "Time an executor spent running one module task.",
                ["module_kind_family"],
                buckets=_TASK,
                registry=r,
            ),
            task_retries=Counter(
                "scenarist_task_retries_total",
                "Module tasks scheduled for another attempt.",
                registry=r,
            ),
            tasks_in_flight=Gauge(
                "scenarist_tasks_in_flight",
                "Module tasks currently running in this executor process.",
                registry=r,
            ),
            task_slots=Gauge(
                "scenarist_task_slots",
                "Concurrency limit of this executor process (saturation = in_flight / slots).",
                registry=r,
            ),
            module_errors=Counter(
                "scenarist_module_errors_total",
                "Module failures by error type (e.g. ConnectionError, RateLimitError).",
                ["error_type"],
                registry=r,
            ),
            webhook_requests=Counter(
                "scenarist_webhook_requests_total",
                "Webhook requests by outcome (accepted, refused) and refusal reason.",
                ["outcome", "reason"],
                registry=r,
            ),
            webhook_request_duration=Histogram(
                "scenarist_webhook_request_duration_seconds",
                "Time to answer a webhook request.",
                buckets=_FAST,
                registry=r,
            ),
            schedules_fired=Counter(
                "scenarist_schedules_fired_total",
                "Scheduled triggers fired by the scheduler.",
                registry=r,
            ),
            bus_messages_consumed=Counter(
                "scenarist_bus_messages_consumed_total",
                "Messages read from the bus.",
                ["topic"],
                registry=r,
            ),
            bus_messages_produced=Counter(
                "scenarist_bus_messages_produced_total",
                "Messages written to the bus.",
                ["topic"],
                registry=r,
            ),
            bus_batch_size=Histogram(
                "scenarist_bus_batch_size",
                "Messages per consumed batch.",
                ["topic"],
                buckets=_BATCH,
                registry=r,
            ),
            dlq_messages=Counter(
                "scenarist_dlq_messages_total",
                "Messages sent to the dead-letter topic, by source topic and reason.",
                ["topic", "reason"],
                registry=r,
            ),
            consumer_lag=Gauge(
                "scenarist_consumer_lag",
                "Messages between the committed offset and the partition end.",
                ["topic", "partition"],
                registry=r,
            ),
            db_transaction_duration=Histogram(
                "scenarist_db_transaction_duration_seconds",
                "Duration of one Postgres transaction.",
                ["service"],
                buckets=_FAST,
                registry=r,
            ),
            db_pool_in_use=Gauge(
                "scenarist_db_pool_in_use",
                "Postgres connections checked out of the pool.",
                ["service"],
                registry=r,
            ),
            db_pool_size=Gauge(
                "scenarist_db_pool_size",
                "Maximum Postgres connections in the pool.",
                ["service"],
                registry=r,
            ),
            redis_pool_in_use=Gauge(
                "scenarist_redis_pool_in_use",
                "Redis connections checked out of the pool.",
                ["service"],
                registry=r,
            ),
            redis_pool_size=Gauge(
                "scenarist_redis_pool_size",
                "Maximum Redis connections in the pool.",
                ["service"],
                registry=r,
            ),
            connector_calls=Counter(
                "scenarist_connector_calls_total",
                "Calls to external apps by app and outcome (ok, error, timeout, rate_limited).",
                ["app", "outcome"],
                registry=r,
            ),
            connector_call_duration=Histogram(
                "scenarist_connector_call_duration_seconds",
                "Latency of calls to external apps.",
                ["app"],
                buckets=_REMOTE,
                registry=r,
            ),
            rate_limit_waits=Counter(
                "scenarist_rate_limit_waits_total",
                "Times a connector call waited for a rate-limit token.",
                ["app"],
                registry=r,
            ),
            grpc_server_requests=Counter(
                "scenarist_grpc_server_requests_total",
                "gRPC requests handled, by full method name and status code.",
                ["method", "code"],
                registry=r,
            ),
            grpc_server_request_duration=Histogram(
                "scenarist_grpc_server_request_duration_seconds",
                "gRPC request handling time, by full method name.",
                ["method"],
                buckets=_FAST,
                registry=r,
            ),
            build_info=Gauge(
                "scenarist_build_info",
                "Always 1; labels identify the running version of each service.",
                ["service", "version"],
                registry=r,
            ),
        )

    def all(self) -> list[MetricWrapperBase]:
        """Every metric object, for tests and documentation."""
        return [getattr(self, f.name) for f in fields(self)]


#: The per-process registry every service exposes on /metrics. In standalone mode all five
#: services share it, which is why per-service series carry a `service` label.
REGISTRY: CollectorRegistry = new_registry()
METRICS: Metrics = Metrics.create(REGISTRY)


def set_build_info(service: str, version: str, *, metrics: Metrics | None = None) -> None:
    """Publish ``scenarist_build_info{service, version} 1`` for this service."""
    (metrics or METRICS).build_info.labels(service=service, version=version).set(1)


def render_latest(registry: CollectorRegistry | None = None) -> bytes:
    """The registry in Prometheus text format (serve with :data:`CONTENT_TYPE_LATEST`)."""
    return generate_latest(registry or REGISTRY)
