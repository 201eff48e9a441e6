"""What both buses record: consumer lag per owned partition, produced-message counts, and the
trace context producers add to records sent inside a trace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from scenarist_bus.lag import LagReporter
from scenarist_bus.port import Bus, Consumer, OutgoingMessage, Record, TopicPartition
from scenarist_observability.metrics import REGISTRY
from scenarist_observability.tracing import configure_tracing, extract_kafka_context, get_tracer

pytestmark = [pytest.mark.contract, pytest.mark.timeout(120)]

DEADLINE_S = 30.0
NewTopic = Callable[[int], Awaitable[str]]

_EXPORTER = InMemorySpanExporter()
configure_tracing("scenarist-contract-tests", exporter=_EXPORTER)


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _drain(consumer: Consumer, count: int) -> list[Record]:
    got: list[Record] = []

    async def enough() -> bool:
        got.extend(await consumer.getmany(timeout_ms=100))
        return len(got) >= count

    await _until(enough, f"{count} records")
    return got


def _sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_lag_counts_what_the_member_has_not_read(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage(topic, b"%d" % i) for i in range(5)])
    consumer = bus.consumer(group_id, [topic])
    await consumer.start()
    tp = TopicPartition(topic, 0)

    async def lag_is(expected: int) -> bool:
        return (await consumer.lag()).get(tp) == expected

    try:
        await _until(lambda: lag_is(5), "lag 5 before reading")
        await _drain(consumer, 5)
        await _until(lambda: lag_is(0), "lag 0 after reading")
    finally:
        await consumer.stop()


async def test_the_lag_reporter_sets_and_clears_the_gauge(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    await (await bus.producer()).send(OutgoingMessage(topic, b"x"))
    consumer = bus.consumer(group_id, [topic])
    await consumer.start()
    reporter = LagReporter(consumer, interval_seconds=0.0)

    async def reported() -> bool:
        await reporter.maybe_report()
        return _sample("scenarist_consumer_lag", topic=topic, partition="0") == 1

    try:
        await _until(reported, "the lag gauge at 1")
        reporter.clear()
        assert _sample("scenarist_consumer_lag", topic=topic, partition="0") is None
    finally:
        await consumer.stop()


async def test_producers_count_and_trace_what_they_send(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    producer = await bus.producer()
    before = _sample("scenarist_bus_messages_produced_total", topic=topic) or 0.0
    _EXPORTER.clear()
    with get_tracer().start_as_current_span("caller") as caller:
        await producer.send(OutgoingMessage(topic, b"traced", headers=(("a", b"1"),)))
    await producer.send_batch([OutgoingMessage(topic, b"untraced", headers=(("a", b"2"),))])
    assert _sample("scenarist_bus_messages_produced_total", topic=topic) == before + 2

    consumer = bus.consumer(group_id, [topic])
    await consumer.start()
    try:
        records = {r.value: r for r in await _drain(consumer, 2)}
    finally:
        await consumer.stop()
    assert records[b"untraced"].headers == (("a", b"2"),)  # outside a trace: left alone
    traced = records[b"traced"]
    assert traced.header("a") == b"1"
    [publish] = [s for s in _EXPORTER.get_finished_spans() if s.name == f"publish {topic}"]
    assert publish.kind is SpanKind.PRODUCER
    assert publish.parent is not None
    assert publish.parent.span_id == caller.get_span_context().span_id
    carried = trace.get_current_span(extract_kafka_context(traced.headers)).get_span_context()
    assert carried.span_id == publish.context.span_id  # consumers become its children
