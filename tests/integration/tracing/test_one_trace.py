"""One run is one trace: a webhook run crosses trigger → orchestrator → executor → connector
gateway → log, and every span it produces lands in the trace the webhook request started.

All five services are hosted in one process (standalone: in-process bus, real Postgres), so the
span resource is shared; spans say which service made them in ``scenarist.service``. The
executor is told to reach the gateway over gRPC on its internal port (as in distributed mode),
so the trace also crosses a real gRPC hop. Spans go to an in-memory exporter installed before
anything starts.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from scenarist_bus import topics
from scenarist_observability.tracing import SERVICE_ATTRIBUTE, configure_tracing
from scenarist_runtime.host import ALL_SERVICES, Hosted
from support.platform import hosted_platform, secret_key, webhook_scenario

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()
configure_tracing("scenarist-trace-test", exporter=EXPORTER)

SERVICES = ["orchestrator", "executor", "trigger", "log", "connector_gateway"]
EXECUTE_MODULE = "/scenarist.connector.v1.ConnectorService/ExecuteModule"
GREETING = """\
name: Traced greeting
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - id: 2
    module: csv:ParseCSV
    mapper: {csv: "greeting\\nHello {{1.name}}", containsHeaders: true}
  - id: 3
    module: gateway:WebhookRespond
    mapper: {status: "200", body: "{{2.greeting}}"}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def hosted(trace_database_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hosted]:
    internal_port = _free_port()
    env = {
        "SCENARIST_SECRETS_KEY": secret_key(),
        "SCENARIST_WEBHOOK_SECRET_KEY": secret_key(),
        "SCENARIST_INTERNAL_SECRET": "trace-test-internal-secret",
        "SCENARIST_GATEWAY_INTERNAL_PORT": str(internal_port),
        "SCENARIST_GATEWAY_TARGET": f"127.0.0.1:{internal_port}",
        "SCENARIST_GATEWAY_TRANSPORT": "grpc",
        "SCENARIST_RATE_LIMIT_BACKEND": "memory",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    async with hosted_platform(SERVICES, "trace-test", trace_database_dsn) as hosted:
        yield hosted


async def _webhook_path(hosted: Hosted) -> str:
    return (await webhook_scenario(hosted, GREETING, "trace")).url_path


@dataclass
class Trace:
    spans: list[ReadableSpan]

    def services(self) -> set[str]:
        return {str(s.attributes.get(SERVICE_ATTRIBUTE)) for s in self.spans if s.attributes}

    def by_id(self) -> dict[int, ReadableSpan]:
        return {s.context.span_id: s for s in self.spans if s.context is not None}

    def parent_of(self, span: ReadableSpan) -> ReadableSpan | None:
        return self.by_id().get(span.parent.span_id) if span.parent is not None else None

    def find(self, *, service: str, kind: SpanKind, prefix: str = "") -> list[ReadableSpan]:
        return [
            s
            for s in self.spans
            if s.kind is kind
            and s.name.startswith(prefix)
            and (s.attributes or {}).get(SERVICE_ATTRIBUTE) == service
        ]


def _trace_of(root: ReadableSpan, spans: Sequence[ReadableSpan]) -> Trace:
    assert root.context is not None
    trace_id = root.context.trace_id
    return Trace([s for s in spans if s.context is not None and s.context.trace_id == trace_id])


async def _complete_trace() -> Trace:
    """The webhook's trace, once it holds spans of all five services (bounded wait: the log
    service ends its spans when its batch is written, after the webhook answered)."""
    for _ in range(400):  # ~20 s
        spans = EXPORTER.get_finished_spans()
        roots = [s for s in spans if s.name.endswith("/hooks/{token}") and s.parent is None]
        if roots:
            found = _trace_of(roots[-1], spans)
            logged = {
                s.name for s in found.find(service="log", kind=SpanKind.CONSUMER, prefix="process ")
            }
            # Both of the log service's consumers end their spans after their own batch write.
            wanted = {f"process {topics.RUNS_EVENTS}", f"process {topics.LOGS_STEPS}"}
            if found.services() >= set(ALL_SERVICES) and logged >= wanted:
                return found
        await asyncio.sleep(0.05)
    pytest.fail(f"no complete trace; services seen: {sorted(_services(EXPORTER))}")


def _services(exporter: InMemorySpanExporter) -> set[str]:
    return {str((s.attributes or {}).get(SERVICE_ATTRIBUTE)) for s in exporter.get_finished_spans()}


def _assert_hop(found: Trace, child: ReadableSpan, kind: SpanKind, service: str) -> None:
    parent = found.parent_of(child)
    assert parent is not None, f"{child.name} has no parent in the trace"
    assert parent.kind is kind, (child.name, parent.name, parent.kind)
    assert (parent.attributes or {}).get(SERVICE_ATTRIBUTE) == service, (child.name, parent.name)


async def test_a_webhook_run_is_one_trace_across_all_five_services(hosted: Hosted) -> None:
    path = await _webhook_path(hosted)
    EXPORTER.clear()
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.post(hosted.http_url.rstrip("/") + path, json={"name": "Ada"})
    assert (reply.status_code, reply.text) == (200, "Hello Ada")

    found = await _complete_trace()
    assert found.services() >= {"trigger", "orchestrator", "executor", "connector_gateway", "log"}
    # Connected: every span but the webhook's root has its parent in this same trace.
    orphans = [s.name for s in found.spans if s.parent is not None and found.parent_of(s) is None]
    assert not orphans, orphans

    # Kafka hops: trigger → orchestrator, orchestrator → executor, executor → orchestrator,
    # orchestrator → log; each consumer's span is the child of the producer's publish span.
    [requested] = found.find(
        service="orchestrator", kind=SpanKind.CONSUMER, prefix=f"process {topics.RUNS_REQUESTED}"
    )
    _assert_hop(found, requested, SpanKind.PRODUCER, "trigger")
    tasks = found.find(
        service="executor", kind=SpanKind.CONSUMER, prefix=f"process {topics.TASKS_MODULE}"
    )
    assert tasks
    for task in tasks:
        _assert_hop(found, task, SpanKind.PRODUCER, "orchestrator")
    results = found.find(
        service="orchestrator", kind=SpanKind.CONSUMER, prefix=f"process {topics.TASKS_RESULTS}"
    )
    assert results
    for result in results:
        _assert_hop(found, result, SpanKind.PRODUCER, "executor")
    logged = found.find(service="log", kind=SpanKind.CONSUMER, prefix="process ")
    assert {s.name for s in logged} >= {
        f"process {topics.LOGS_STEPS}",
        f"process {topics.RUNS_EVENTS}",
    }
    for record in logged:
        _assert_hop(found, record, SpanKind.PRODUCER, "orchestrator")

    # gRPC hop: the executor's client span is the parent of the gateway's server span.
    [server] = found.find(service="connector_gateway", kind=SpanKind.SERVER, prefix=EXECUTE_MODULE)
    _assert_hop(found, server, SpanKind.CLIENT, "executor")
    client_span = found.parent_of(server)
    assert client_span is not None
    _assert_hop(found, client_span, SpanKind.CONSUMER, "executor")
