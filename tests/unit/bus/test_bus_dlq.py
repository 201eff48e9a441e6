"""Dead-letter header composition and the decode-or-dead-letter helpers (on LocalBus)."""

from __future__ import annotations

from scenarist_bus.dlq import (
    H_ERROR_TYPE,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
    H_REASON,
    MAX_REASON_BYTES,
    dead_letter,
    dead_letter_headers,
    dead_letter_message,
    decode_batch_or_dead_letter,
    decode_or_dead_letter,
)
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage, Record, TopicPartition, TopicSpec
from scenarist_bus.topics import DLQ, TASKS_MODULE


def record(**overrides: object) -> Record:
    fields: dict[str, object] = {
        "topic": TASKS_MODULE,
        "partition": 7,
        "offset": 1234,
        "key": b"run-1",
        "value": b"\x00garbage",
        "headers": (("traceparent", b"00-abc-01"), ("x-attempt", b"2")),
        "timestamp_ms": 1,
    }
    fields.update(overrides)
    return Record(**fields)  # type: ignore[arg-type]


def test_headers_keep_the_originals_then_add_the_reason() -> None:
    headers = dead_letter_headers(record(), "bad envelope", error_type="DecodeError")
    assert headers == (
        ("traceparent", b"00-abc-01"),
        ("x-attempt", b"2"),
        (H_ORIGINAL_TOPIC, TASKS_MODULE.encode()),
        (H_ORIGINAL_PARTITION, b"7"),
        (H_ORIGINAL_OFFSET, b"1234"),
        (H_REASON, b"bad envelope"),
        (H_ERROR_TYPE, b"DecodeError"),
    )


def test_dead_lettering_a_dead_letter_replaces_the_old_reason() -> None:
    first = dead_letter_headers(record(), "first", error_type="A")
    again = record(topic=DLQ, partition=0, offset=9, headers=first)
    headers = dead_letter_headers(again, "second", error_type="B")
    names = [k for k, _ in headers]
    assert names.count(H_REASON) == 1 and names.count(H_ORIGINAL_TOPIC) == 1
    assert dict(headers)[H_ORIGINAL_TOPIC] == DLQ.encode()
    assert dict(headers)[H_REASON] == b"second"
    assert dict(headers)["traceparent"] == b"00-abc-01"


def test_reason_is_bounded_and_unicode_safe() -> None:
    headers = dict(dead_letter_headers(record(), "é" * 10_000, error_type="E"))
    assert len(headers[H_REASON]) == MAX_REASON_BYTES


def test_message_keeps_key_and_value() -> None:
    msg = dead_letter_message(record(), "r", error_type="E")
    assert (msg.topic, msg.key, msg.value) == (DLQ, b"run-1", b"\x00garbage")


async def _bus() -> LocalBus:
    bus = LocalBus()
    await bus.create_topics([TopicSpec(TASKS_MODULE, 2), TopicSpec(DLQ, 1)])
    return bus


async def test_dead_letter_publishes_to_the_dlq() -> None:
    bus = await _bus()
    meta = await dead_letter(await bus.producer(), record(), "why", error_type="E")
    assert (meta.topic, meta.offset) == (DLQ, 0)
    assert bus.end_offset(TopicPartition(DLQ, 0)) == 1


def _decode(r: Record) -> int:
    return int(r.value)


async def test_decode_or_dead_letter_returns_the_value_or_none() -> None:
    bus = await _bus()
    producer = await bus.producer()
    assert await decode_or_dead_letter(producer, record(value=b"41"), _decode) == 41
    assert await decode_or_dead_letter(producer, record(), _decode) is None
    assert bus.end_offset(TopicPartition(DLQ, 0)) == 1


async def test_batch_helper_splits_good_from_poison() -> None:
    bus = await _bus()
    producer = await bus.producer()
    await producer.send_batch(
        [OutgoingMessage(TASKS_MODULE, v, key=b"k") for v in (b"1", b"oops", b"3")]
    )
    consumer = bus.consumer("g", [TASKS_MODULE])
    await consumer.start()
    batch = await consumer.getmany(timeout_ms=100)
    decoded = await decode_batch_or_dead_letter(producer, batch, _decode)
    assert [v for _, v in decoded.ok] == [1, 3]
    assert [r.value for r in decoded.dead_lettered] == [b"oops"]
    dead = bus.end_offset(TopicPartition(DLQ, 0))
    assert dead == 1
    await consumer.stop(commit=batch)
