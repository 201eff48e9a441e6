"""The dead-letter topic: where records no consumer can decode go, with why, instead of a crash.

Pattern for a consumer loop (at-least-once, poison-safe):

    batch = await consumer.getmany(timeout_ms=500)
    decoded = await decode_batch_or_dead_letter(producer, batch, decode_task)
    await handle([value for _, value in decoded.ok])
    await consumer.commit(batch)        # the WHOLE batch, dead-lettered records included

Commit the whole batch, never only the dead-lettered records on their own: committing past a
poison record while earlier good records of its partition are unprocessed would lose those.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from scenarist_bus.port import Headers, OutgoingMessage, Producer, Record, RecordMetadata
from scenarist_bus.topics import DLQ

log = logging.getLogger(__name__)

T = TypeVar("T")

H_ORIGINAL_TOPIC = "x-original-topic"
H_ORIGINAL_PARTITION = "x-original-partition"
H_ORIGINAL_OFFSET = "x-original-offset"
H_REASON = "x-dlq-reason"
H_ERROR_TYPE = "x-dlq-error-type"
DLQ_HEADERS = frozenset(
    {H_ORIGINAL_TOPIC, H_ORIGINAL_PARTITION, H_ORIGINAL_OFFSET, H_REASON, H_ERROR_TYPE}
)

# Reasons come from exception messages, which can embed the whole bad payload; bound them so the
# DLQ record stays under the broker's size limit.
MAX_REASON_BYTES = 4096


def dead_letter_headers(record: Record, reason: str, *, error_type: str) -> Headers:
    """The original headers (minus stale DLQ headers from an earlier dead-lettering), then ours."""
    kept = tuple((k, v) for k, v in record.headers if k not in DLQ_HEADERS)
    reason_bytes = reason.encode("utf-8", errors="replace")[:MAX_REASON_BYTES]
    return (
        *kept,
        (H_ORIGINAL_TOPIC, record.topic.encode()),
        (H_ORIGINAL_PARTITION, str(record.partition).encode()),
        (H_ORIGINAL_OFFSET, str(record.offset).encode()),
        (H_REASON, reason_bytes),
        (H_ERROR_TYPE, error_type.encode("utf-8", errors="replace")),
    )


def dead_letter_message(
    record: Record, reason: str, *, error_type: str, topic: str = DLQ
) -> OutgoingMessage:
    # Same key as the original: replaying the DLQ lands records on the partition they came from.
    return OutgoingMessage(
        topic=topic,
        value=record.value,
        key=record.key,
        headers=dead_letter_headers(record, reason, error_type=error_type),
    )


async def dead_letter(
    producer: Producer, record: Record, reason: str, *, error_type: str, topic: str = DLQ
) -> RecordMetadata:
    """Publish `record` to the DLQ and wait for the ack (only then may the caller commit it)."""
    log.warning(
        "dead-lettering %s[%d]@%d: %s: %s",
        record.topic,
        record.partition,
        record.offset,
        error_type,
        reason[:200],
    )
    return await producer.send(
        dead_letter_message(record, reason, error_type=error_type, topic=topic)
    )


@dataclass(slots=True)
class DecodedBatch(Generic[T]):
    ok: list[tuple[Record, T]] = field(default_factory=list)
    dead_lettered: list[Record] = field(default_factory=list)


async def decode_or_dead_letter(
    producer: Producer,
    record: Record,
    decode: Callable[[Record], T],
    *,
    topic: str = DLQ,
) -> T | None:
    """`decode(record)`, or None after the record went to the DLQ because decode raised."""
    try:
        return decode(record)
    except Exception as exc:  # any decode/validation failure is the record's fault, not ours
        await dead_letter(
            producer, record, str(exc), error_type=type(exc).__qualname__, topic=topic
        )
        return None


async def decode_batch_or_dead_letter(
    producer: Producer,
    records: Sequence[Record],
    decode: Callable[[Record], T],
    *,
    topic: str = DLQ,
) -> DecodedBatch[T]:
    """Decode a batch; every failure goes to the DLQ in one acknowledged send_batch."""
    out: DecodedBatch[T] = DecodedBatch()
    poison: list[OutgoingMessage] = []
    for record in records:
        try:
            out.ok.append((record, decode(record)))
        except Exception as exc:  # see decode_or_dead_letter
            out.dead_lettered.append(record)
            error_type = type(exc).__qualname__
            log.warning(
                "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, exc
            )
            poison.append(dead_letter_message(record, str(exc), error_type=error_type, topic=topic))
    if poison:
        await producer.send_batch(poison)
    return out
