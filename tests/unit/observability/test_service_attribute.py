from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.tracing import SERVICE_ATTRIBUTE, get_tracer, service_scope
from scenarist_runtime.host import service_of_method


def _service_of(spans: InMemorySpanExporter, name: str) -> object:
    [span] = [s for s in spans.get_finished_spans() if s.name == name]
    return (span.attributes or {}).get(SERVICE_ATTRIBUTE)


async def test_spans_carry_the_service_of_their_scope_and_of_tasks_spawned_in_it(
    spans: InMemorySpanExporter,
) -> None:
    async def work() -> None:
        with get_tracer().start_as_current_span("in a task"):
            await asyncio.sleep(0)

    with service_scope("executor"):
        task = asyncio.get_running_loop().create_task(work())
        with get_tracer().start_as_current_span("in scope"):
            pass
    with get_tracer().start_as_current_span("outside"):
        await task
    assert _service_of(spans, "in scope") == "executor"
    assert _service_of(spans, "in a task") == "executor"  # tasks copy the context they start in
    assert _service_of(spans, "outside") is None


def test_an_explicit_service_attribute_is_kept(spans: InMemorySpanExporter) -> None:
    with (
        service_scope("executor"),
        get_tracer().start_as_current_span("called", attributes={SERVICE_ATTRIBUTE: "log"}),
    ):
        pass
    assert _service_of(spans, "called") == "log"


def test_grpc_methods_map_to_the_service_that_serves_them() -> None:
    assert service_of_method("/scenarist.run.v1.RunService/StartRun") == "orchestrator"
    assert (
        service_of_method("/scenarist.connector.v1.ConnectorService/ExecuteModule")
        == "connector_gateway"
    )
    assert service_of_method("/scenarist.trigger.v1.WebhookService/CreateWebhook") == "trigger"
    assert service_of_method("/grpc.health.v1.Health/Check") is None
