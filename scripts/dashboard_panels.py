"""What the Grafana dashboards show: titles, rows and panels with their PromQL.

Rendered by scripts/gen_dashboards.py. Every metric name used here must be defined in
libs/observability/src/scenarist_observability/metrics.py (or be a process_*/python_* default);
tests/ops/test_dashboards.py checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

RATE = "[$__rate_interval]"


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""


def p95(metric: str, by: str = "", q: str = "0.95") -> str:
    group = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{RATE})))"


def rate(metric: str, by: str = "", selector: str = "") -> str:
    inner = f"rate({metric}{selector}{RATE})"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def saturation(used: str, size: str, by: str) -> str:
    return f"sum by ({by}) ({used}) / clamp_min(sum by ({by}) ({size}), 1)"


TASK_LAG = 'max by (partition) (scenarist_consumer_lag{topic="scenarist.tasks.module"})'


OVERVIEW = (
    "Scenarist / Overview",
    "scenarist-overview",
    [
        (
            "Runs",
            [
                Panel(
                    "Runs finished /s by status",
                    ((rate("scenarist_runs_finished_total", "status"), "{{status}}"),),
                    "reqps",
                ),
                Panel(
                    "Runs started /s by source",
                    (
                        (
                            rate("scenarist_runs_started_total", "trigger_source"),
                            "{{trigger_source}}",
                        ),
                    ),
                    "reqps",
                ),
                Panel(
                    "Operations /s", ((rate("scenarist_operations_total"), "operations"),), "ops"
                ),
                Panel(
                    "End-to-end run latency",
                    tuple(
                        (p95("scenarist_run_duration_seconds", q=q), f"p{q[2:]}")
                        for q in ("0.50", "0.95", "0.99")
                    ),
                    "s",
                    description="From the run request to its final status.",
                ),
            ],
        ),
        (
            "Webhook ingress",
            [
                Panel(
                    "Webhook requests /s by outcome",
                    ((rate("scenarist_webhook_requests_total", "outcome"), "{{outcome}}"),),
                    "reqps",
                ),
                Panel(
                    "Webhook refusals /s by reason",
                    (
                        (
                            rate(
                                "scenarist_webhook_requests_total", "reason", '{outcome="refused"}'
                            ),
                            "{{reason}}",
                        ),
                    ),
                    "reqps",
                ),
                Panel(
                    "Webhook answer latency",
                    tuple(
                        (p95("scenarist_webhook_request_duration_seconds", q=q), f"p{q[2:]}")
                        for q in ("0.50", "0.95", "0.99")
                    ),
                    "s",
                ),
            ],
        ),
        (
            "gRPC APIs",
            [
                Panel(
                    "Requests /s by code",
                    ((rate("scenarist_grpc_server_requests_total", "code"), "{{code}}"),),
                    "reqps",
                ),
                Panel(
                    "Errors /s by method",
                    (
                        (
                            rate("scenarist_grpc_server_requests_total", "method", '{code!="OK"}'),
                            "{{method}}",
                        ),
                    ),
                    "reqps",
                ),
                Panel(
                    "p95 latency by method",
                    (
                        (
                            p95("scenarist_grpc_server_request_duration_seconds", "method"),
                            "{{method}}",
                        ),
                    ),
                    "s",
                ),
            ],
        ),
    ],
)

EXECUTORS = (
    "Scenarist / Executors",
    "scenarist-executors",
    [
        (
            "Throughput",
            [
                Panel(
                    "Tasks executed /s by outcome",
                    ((rate("scenarist_tasks_executed_total", "outcome"), "{{outcome}}"),),
                    "ops",
                ),
                Panel(
                    "Tasks dispatched /s (orchestrator)",
                    ((rate("scenarist_tasks_dispatched_total"), "dispatched"),),
                    "ops",
                ),
                Panel("Retries /s", ((rate("scenarist_task_retries_total"), "retries"),), "ops"),
                Panel(
                    "Module errors /s by type",
                    ((rate("scenarist_module_errors_total", "error_type"), "{{error_type}}"),),
                    "ops",
                ),
            ],
        ),
        (
            "Latency and backlog",
            [
                Panel(
                    "Task duration p95 by module kind",
                    (
                        (
                            p95("scenarist_task_duration_seconds", "module_kind_family"),
                            "{{module_kind_family}}",
                        ),
                    ),
                    "s",
                ),
                Panel(
                    "Task queue lag per partition",
                    (
                        (
                            TASK_LAG,
                            "partition {{partition}}",
                        ),
                    ),
                    "short",
                ),
                Panel(
                    "Slot saturation by pod",
                    (
                        (
                            saturation("scenarist_tasks_in_flight", "scenarist_task_slots", "pod"),
                            "{{pod}}",
                        ),
                    ),
                    "percentunit",
                ),
                Panel(
                    "Tasks in flight",
                    (
                        ("sum(scenarist_tasks_in_flight)", "in flight"),
                        ("sum(scenarist_task_slots)", "slots"),
                    ),
                    "short",
                ),
            ],
        ),
    ],
)

CONNECTORS = (
    "Scenarist / Connectors",
    "scenarist-connectors",
    [
        (
            "Calls to apps",
            [
                Panel(
                    "Calls /s by app",
                    ((rate("scenarist_connector_calls_total", "app"), "{{app}}"),),
                    "reqps",
                ),
                Panel(
                    "Failed calls /s by app and outcome",
                    (
                        (
                            rate(
                                "scenarist_connector_calls_total", "app, outcome", '{outcome!="ok"}'
                            ),
                            "{{app}} {{outcome}}",
                        ),
                    ),
                    "reqps",
                ),
                Panel(
                    "Call latency p95 by app",
                    ((p95("scenarist_connector_call_duration_seconds", "app"), "{{app}}"),),
                    "s",
                ),
                Panel(
                    "Rate-limit waits /s by app",
                    ((rate("scenarist_rate_limit_waits_total", "app"), "{{app}}"),),
                    "ops",
                ),
            ],
        ),
    ],
)

KAFKA = (
    "Scenarist / Kafka",
    "scenarist-kafka",
    [
        (
            "Consumer lag",
            [
                Panel(
                    "Lag by topic",
                    (("sum by (topic) (scenarist_consumer_lag)", "{{topic}}"),),
                    "short",
                ),
                Panel(
                    "Lag by topic and partition",
                    (
                        (
                            "max by (topic, partition) (scenarist_consumer_lag)",
                            "{{topic}}/{{partition}}",
                        ),
                    ),
                    "short",
                ),
            ],
        ),
        (
            "Traffic",
            [
                Panel(
                    "Consumed /s by topic",
                    ((rate("scenarist_bus_messages_consumed_total", "topic"), "{{topic}}"),),
                    "ops",
                ),
                Panel(
                    "Produced /s by topic",
                    ((rate("scenarist_bus_messages_produced_total", "topic"), "{{topic}}"),),
                    "ops",
                ),
                Panel(
                    "Batch size p95 by topic",
                    ((p95("scenarist_bus_batch_size", "topic"), "{{topic}}"),),
                    "short",
                ),
                Panel(
                    "Dead-lettered /s by topic and reason",
                    (
                        (
                            rate("scenarist_dlq_messages_total", "topic, reason"),
                            "{{topic}} {{reason}}",
                        ),
                    ),
                    "ops",
                ),
            ],
        ),
    ],
)

POOLS = (
    "Scenarist / Postgres and Redis pools",
    "scenarist-pools",
    [
        (
            "Postgres",
            [
                Panel(
                    "Pool saturation by service",
                    (
                        (
                            saturation(
                                "scenarist_db_pool_in_use", "scenarist_db_pool_size", "service"
                            ),
                            "{{service}}",
                        ),
                    ),
                    "percentunit",
                ),
                Panel(
                    "Connections in use by service",
                    (("sum by (service) (scenarist_db_pool_in_use)", "{{service}}"),),
                    "short",
                ),
                Panel(
                    "Transaction p95 by service",
                    ((p95("scenarist_db_transaction_duration_seconds", "service"), "{{service}}"),),
                    "s",
                ),
            ],
        ),
        (
            "Redis",
            [
                Panel(
                    "Pool saturation by service",
                    (
                        (
                            saturation(
                                "scenarist_redis_pool_in_use",
                                "scenarist_redis_pool_size",
                                "service",
                            ),
                            "{{service}}",
                        ),
                    ),
                    "percentunit",
                ),
                Panel(
                    "Connections in use by service",
                    (("sum by (service) (scenarist_redis_pool_in_use)", "{{service}}"),),
                    "short",
                ),
            ],
        ),
    ],
)

RESOURCES = (
    "Scenarist / Service resources",
    "scenarist-resources",
    [
        (
            "Processes",
            [
                Panel(
                    "CPU by pod",
                    ((f"sum by (pod) (rate(process_cpu_seconds_total{RATE}))", "{{pod}}"),),
                    "percentunit",
                ),
                Panel(
                    "Resident memory by pod",
                    (("sum by (pod) (process_resident_memory_bytes)", "{{pod}}"),),
                    "bytes",
                ),
                Panel(
                    "Open file descriptors (share of max)",
                    (("max by (pod) (process_open_fds / process_max_fds)", "{{pod}}"),),
                    "percentunit",
                ),
                Panel(
                    "Python GC collections /s by generation",
                    (
                        (
                            f"sum by (generation) (rate(python_gc_collections_total{RATE}))",
                            "gen {{generation}}",
                        ),
                    ),
                    "ops",
                ),
            ],
        ),
        (
            "Versions",
            [
                Panel(
                    "Running versions",
                    (
                        (
                            "sum by (service, version) (scenarist_build_info)",
                            "{{service}} {{version}}",
                        ),
                    ),
                    "short",
                    "table",
                ),
            ],
        ),
    ],
)

DASHBOARDS = (OVERVIEW, EXECUTORS, CONNECTORS, KAFKA, POOLS, RESOURCES)
