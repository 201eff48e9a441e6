from __future__ import annotations

from opentelemetry import baggage, trace
from opentelemetry.context import attach, detach
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from scenarist_observability.tracing import (
    current_trace_id,
    extract_grpc_context,
    extract_kafka_context,
    get_tracer,
    inject_grpc_metadata,
    inject_kafka_headers,
    kafka_process_batch_span,
    kafka_process_span,
    kafka_publish_span,
)


def _span_context_of(ctx):
    return trace.get_current_span(ctx).get_span_context()


def test_kafka_headers_round_trip_the_trace_context(spans: InMemorySpanExporter) -> None:
    with get_tracer().start_as_current_span("producer") as span:
        headers = inject_kafka_headers([("event-type", b"RunRequested")])
    assert ("event-type", b"RunRequested") in headers
    assert all(isinstance(k, str) and isinstance(v, bytes) for k, v in headers)
    extracted = _span_context_of(extract_kafka_context(headers))
    original = span.get_span_context()
    assert extracted.is_valid and extracted.is_remote
    assert extracted.trace_id == original.trace_id
    assert extracted.span_id == original.span_id
    assert extracted.trace_flags == original.trace_flags


def test_kafka_inject_replaces_stale_context_headers(spans: InMemorySpanExporter) -> None:
    stale = [("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"), ("k", b"v")]
    with get_tracer().start_as_current_span("republish") as span:
        headers = inject_kafka_headers(stale)
    assert [k for k, _ in headers].count("traceparent") == 1
    assert _span_context_of(extract_kafka_context(headers)).trace_id == (
        span.get_span_context().trace_id
    )


def test_baggage_travels_too(spans: InMemorySpanExporter) -> None:
    token = attach(baggage.set_baggage("scenarist.trigger", "webhook"))
    try:
        headers = inject_kafka_headers()
    finally:
        detach(token)
    assert baggage.get_baggage("scenarist.trigger", extract_kafka_context(headers)) == "webhook"


def test_extract_without_context_is_empty() -> None:
    assert not _span_context_of(extract_kafka_context(None)).is_valid
    assert not _span_context_of(extract_kafka_context([("traceparent", b"garbage")])).is_valid
    assert not _span_context_of(extract_grpc_context([])).is_valid
    assert inject_kafka_headers([("a", b"1")]) == [("a", b"1")]  # no active span: nothing added


def test_grpc_metadata_round_trips_the_trace_context(spans: InMemorySpanExporter) -> None:
    with get_tracer().start_as_current_span("client") as span:
        metadata = inject_grpc_metadata([("authorization", "Bearer t"), ("x-bin", b"\x00")])
    assert ("authorization", "Bearer t") in metadata
    assert all(k == k.lower() for k, _ in metadata)
    extracted = _span_context_of(extract_grpc_context(metadata))
    assert extracted.trace_id == span.get_span_context().trace_id
    assert extracted.span_id == span.get_span_context().span_id


def test_publish_then_process_is_one_trace(spans: InMemorySpanExporter) -> None:
    tracer = get_tracer()
    with (
        tracer.start_as_current_span("webhook"),
        kafka_publish_span("runs.requested", [("type", b"x")], key=b"run-1") as (publish, headers),
    ):
        pass
    # The consumer runs later, with no ambient context.
    assert current_trace_id() is None
    with kafka_process_span(
        "runs.requested", headers, partition=3, offset=42, consumer_group="orchestrator"
    ) as process:
        assert current_trace_id() == format(publish.get_span_context().trace_id, "032x")
    finished = {s.name: s for s in spans.get_finished_spans()}
    pub, proc = finished["publish runs.requested"], finished["process runs.requested"]
    assert pub.kind is SpanKind.PRODUCER and proc.kind is SpanKind.CONSUMER
    assert proc.parent is not None and proc.parent.span_id == pub.context.span_id
    assert proc.context.trace_id == pub.context.trace_id == finished["webhook"].context.trace_id
    assert pub.attributes["messaging.system"] == "kafka"
    assert pub.attributes["messaging.destination.name"] == "runs.requested"
    assert pub.attributes["messaging.operation.name"] == "publish"
    assert pub.attributes["messaging.kafka.message.key"] == "run-1"
    assert proc.attributes["messaging.operation.name"] == "process"
    assert proc.attributes["messaging.destination.partition.id"] == "3"
    assert proc.attributes["messaging.kafka.offset"] == 42
    assert proc.attributes["messaging.consumer.group.name"] == "orchestrator"
    assert process.get_span_context().trace_id == pub.context.trace_id


def test_batch_span_links_every_message(spans: InMemorySpanExporter) -> None:
    batch_headers = []
    for _ in range(3):
        with kafka_publish_span("tasks") as (_span, headers):
            batch_headers.append(headers)
    batch_headers.append([("no-context", b"1")])
    with kafka_process_batch_span("tasks", batch_headers, partition=0):
        pass
    batch = next(s for s in spans.get_finished_spans() if s.name == "process tasks")
    assert batch.attributes["messaging.batch.message_count"] == 4
    assert len(batch.links) == 3
    publishers = {
        s.context.span_id for s in spans.get_finished_spans() if s.name == "publish tasks"
    }
    assert {link.context.span_id for link in batch.links} == publishers


def test_exceptions_mark_the_process_span(spans: InMemorySpanExporter) -> None:
    try:
        with kafka_process_span("results", []):
            raise RuntimeError("bad payload")
    except RuntimeError:
        pass
    (span,) = spans.get_finished_spans()
    assert not span.status.is_ok
    assert span.events and span.events[0].name == "exception"
