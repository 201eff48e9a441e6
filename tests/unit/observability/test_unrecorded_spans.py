"""When no span is recorded (no exporter), the bus makes no per-message spans: a message keeps
its own W3C context or gets the current one, and a consumed record's context is read from its
headers as they are. The trace id travels exactly as with recorded spans."""

from __future__ import annotations

import pytest
import scenarist_bus.instrument as instrument
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from scenarist_bus.instrument import Publishing, process_spans
from scenarist_bus.port import OutgoingMessage, Record
from scenarist_observability.sampling import ExportingSampler
from scenarist_observability.tracing import trace_carrier
from scenarist_orchestrator.run_trace import batch_traces, traced
from scenarist_storage.models import OutboxMessage

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(autouse=True)
def unrecorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instrument, "spans_recorded", lambda: False)


def _header(headers: object, name: str) -> bytes | None:
    return next((v for k, v in headers if k == name), None)  # type: ignore[attr-defined]


def test_a_message_with_its_own_context_is_sent_as_it_is() -> None:
    message = OutgoingMessage("t", b"v", b"k", (("traceparent", PARENT.encode()),))
    assert Publishing([message]).messages == [message]


def test_a_message_without_one_gets_the_current_context() -> None:
    tracer = TracerProvider(sampler=ExportingSampler()).get_tracer("t")
    with tracer.start_as_current_span("request") as span:
        [sent] = Publishing([OutgoingMessage("t", b"v", b"k", (("x-type", b"a"),))]).messages
        trace_id = f"{span.get_span_context().trace_id:032x}"
    parent = _header(sent.headers, "traceparent")
    assert parent is not None and parent.decode().split("-")[1] == trace_id
    assert _header(sent.headers, "x-type") == b"a"
    untraced = OutgoingMessage("t", b"v", b"k")
    assert trace.get_current_span().get_span_context().is_valid is False
    assert Publishing([untraced]).messages == [untraced]  # outside any trace: untouched


def test_a_run_goes_on_in_the_context_its_record_came_with() -> None:
    record = Record("runs.requested", 0, 7, b"run-1", b"", (("traceparent", PARENT.encode()),), 0)
    with process_spans([record], "group") as spans:
        assert [s.get_span_context().is_valid for s in spans] == [False]
        carriers = batch_traces([record], spans)
    assert carriers == {"run-1": {"traceparent": PARENT}}
    [message] = traced(
        [OutboxMessage("logs.steps", b"k", b"v", (("traceparent", b"stale"),), None)],
        carriers["run-1"],
    )
    assert message.headers == (("traceparent", PARENT.encode()),)


def test_trace_carrier_takes_the_w3c_fields_only() -> None:
    headers = [("TraceParent", PARENT.encode()), ("x-type", b"a"), ("tracestate", "k=v")]
    assert trace_carrier(headers) == {"traceparent": PARENT, "tracestate": "k=v"}
    assert trace_carrier(None) == {}
