"""Without an exporter spans are not recorded, yet carry valid trace ids (logs and W3C
propagation need them); once an exporter is installed, spans are recorded."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.sampling import ExportingSampler


def test_nothing_recorded_until_exporting_but_context_is_valid() -> None:
    sampler = ExportingSampler()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("quiet") as span:
        context = span.get_span_context()
        assert not span.is_recording()
        assert context.is_valid and not context.trace_flags.sampled
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        assert carrier["traceparent"].split("-")[1] == f"{context.trace_id:032x}"
        with tracer.start_as_current_span("child") as child:
            assert child.get_span_context().trace_id == context.trace_id
    assert exporter.get_finished_spans() == ()
    sampler.exporting = True
    with tracer.start_as_current_span("exported") as span:
        assert span.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["exported"]
    assert trace.get_current_span().get_span_context().is_valid is False
