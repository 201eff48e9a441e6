from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from scenarist_bus.port import Record
from scenarist_observability.tracing import carrier_of, extract_kafka_context
from scenarist_orchestrator.run_trace import (
    TRACE_KEY,
    batch_traces,
    split_trace,
    traced,
    with_trace,
)
from scenarist_storage.models import OutboxMessage

# A private provider: these spans need valid contexts, whatever the global provider is.
TRACER = TracerProvider().get_tracer("test")


def _record(key: bytes | None, offset: int) -> Record:
    return Record("runs.requested", 0, offset, key, b"", (), 0)


def test_the_latest_span_of_each_run_is_the_one_its_messages_continue() -> None:
    records = [_record(b"run-1", 0), _record(b"run-2", 1), _record(b"run-1", 2), _record(None, 3)]
    spans = [TRACER.start_span(f"process {i}") for i in range(4)]
    found = batch_traces(records, spans)
    assert set(found) == {"run-1", "run-2"}
    latest = spans[2].get_span_context()
    assert found["run-1"]["traceparent"].split("-")[2] == format(latest.span_id, "016x")


def test_the_trace_context_round_trips_through_the_stored_state() -> None:
    carrier = {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    stored = with_trace({"status": "running"}, carrier)
    assert stored[TRACE_KEY] == carrier
    assert split_trace(stored) == ({"status": "running"}, carrier)
    assert split_trace({"status": "running"}) == ({"status": "running"}, {})
    assert with_trace({"status": "running"}, {}) == {"status": "running"}


def test_outbox_messages_carry_the_run_context_in_their_headers() -> None:
    span = TRACER.start_span("process")
    carrier = carrier_of(trace.set_span_in_context(span))
    [message] = traced([OutboxMessage("t", b"k", b"v", (("a", b"1"),))], carrier)
    assert ("a", b"1") in message.headers
    context = trace.get_current_span(extract_kafka_context(message.headers)).get_span_context()
    assert context.span_id == span.get_span_context().span_id
    assert traced([OutboxMessage("t", None, b"v")], {})[0].headers == ()
