"""What every producer and consumer of the bus records: publish/process spans and counters.

Both bus implementations call :func:`publishing` around each send, so every service's messages
are counted in ``scenarist_bus_messages_produced_total`` and carry the W3C trace context without
each call site doing it. A message's own ``traceparent`` (an outbox row keeps the context of the
run that wrote it) wins over the ambient span; a message sent outside any trace stays untraced,
so no producer starts a trace of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode
from scenarist_observability.metrics import METRICS
from scenarist_observability.tracing import (
    extract_kafka_context,
    has_trace_context,
    inject_kafka_headers,
    spans_recorded,
    start_kafka_process_span,
    start_kafka_publish_span,
)

from scenarist_bus.port import OutgoingMessage, Record, RecordMetadata

__all__ = ["process_spans", "publishing"]


def _parent(msg: OutgoingMessage) -> tuple[bool, Context | None]:
    """(traced?, parent context): the message's own context, else the current one, else none."""
    if has_trace_context(msg.headers):
        # A malformed traceparent is left as it is: not ours to repair or to replace.
        context = extract_kafka_context(msg.headers)
        return trace.get_current_span(context).get_span_context().is_valid, context
    return trace.get_current_span().get_span_context().is_valid, None


class Publishing:
    """One send in progress: the messages to hand to the broker, and how it went."""

    def __init__(self, msgs: Sequence[OutgoingMessage]) -> None:
        self._spans: list[tuple[int, Span]] = []
        if spans_recorded():
            self.messages = [self._traced(index, msg) for index, msg in enumerate(msgs)]
        else:
            self.messages = [_with_context(msg) for msg in msgs]

    def _traced(self, index: int, msg: OutgoingMessage) -> OutgoingMessage:
        traced, parent = _parent(msg)
        if not traced:
            return msg
        span = start_kafka_publish_span(msg.topic, parent=parent, key=msg.key)
        self._spans.append((index, span))
        headers = inject_kafka_headers(msg.headers, context=trace.set_span_in_context(span))
        return replace(msg, headers=tuple(headers))

    def acknowledged(self, metadata: Sequence[RecordMetadata]) -> None:
        for topic, count in Counter(m.topic for m in metadata).items():
            METRICS.bus_messages_produced.labels(topic).inc(count)
        for index, span in self._spans:
            if index < len(metadata):
                span.set_attribute(
                    "messaging.destination.partition.id", str(metadata[index].partition)
                )
                span.set_attribute("messaging.kafka.offset", metadata[index].offset)
            span.end()
        self._spans = []

    def failed(self, error: BaseException) -> None:
        for _, span in self._spans:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
        self._spans = []


def _with_context(msg: OutgoingMessage) -> OutgoingMessage:
    """No span is recorded: the message keeps its own context, else gets the current one. A
    publish span nobody records cost ~50 us per message (parse, new span, inject) and changed
    nothing downstream but the parent span id."""
    if has_trace_context(msg.headers) or not trace.get_current_span().get_span_context().is_valid:
        return msg
    return replace(msg, headers=tuple(inject_kafka_headers(msg.headers)))


@contextmanager
def publishing(msgs: Sequence[OutgoingMessage]) -> Iterator[Publishing]:
    """Around one send: yields the (traced) messages to send; call ``acknowledged`` on success."""
    sending = Publishing(msgs)
    try:
        yield sending
    except BaseException as exc:
        sending.failed(exc)
        raise


@contextmanager
def process_spans(records: Sequence[Record], consumer_group: str) -> Iterator[list[Span]]:
    """One ``process <topic>`` span per record (child of its producer's), ended together when the
    batch is done: batch consumers cannot make each record's span current while they work.
    When no span is recorded, each is the invalid span (the record's context is in its headers,
    `scenarist_observability.tracing.trace_carrier`)."""
    if not spans_recorded():
        yield [trace.INVALID_SPAN] * len(records)
        return
    spans = [
        start_kafka_process_span(
            r.topic,
            r.headers,
            partition=r.partition,
            offset=r.offset,
            consumer_group=consumer_group,
        )
        for r in records
    ]
    try:
        yield spans
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()
