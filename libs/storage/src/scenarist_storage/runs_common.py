"""Validation both RunStore implementations apply before writing, so they fail alike."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Sequence

from scenarist_storage.models import ClaimedMessage, OutboxMessage, StateWrite, freeze_headers


def check_batch(batch: Sequence[StateWrite]) -> None:
    # Two writes of one run in one batch would make the outcome depend on row order.
    dupes = [run_id for run_id, n in Counter(w.run_id for w in batch).items() if n > 1]
    if dupes:
        raise ValueError(f"a run may be written once per batch: {dupes}")
    for write in batch:
        if write.operations < 0:
            raise ValueError(f"run {write.run_id}: operations must be >= 0")
        new = write.create
        if new is not None and (new.run_id, new.org_id) != (write.run_id, write.org_id):
            raise ValueError(f"run {write.run_id}: a write creates its own run only")
        # Both in one write would leave the entry to the order of two statements.
        both = set(write.dropped).intersection(write.entries)
        if both:
            raise ValueError(f"run {write.run_id}: entries both written and dropped: {both}")


def check_message(message: OutboxMessage) -> None:
    if not isinstance(message.value, bytes | bytearray | memoryview):
        raise TypeError("outbox value must be bytes")


def kept_messages(
    messages: Sequence[OutboxMessage], rejected: Collection[uuid.UUID]
) -> list[OutboxMessage]:
    """The messages a save writes: all but those naming a run whose write was rejected."""
    return [m for m in messages if m.run_id is None or m.run_id not in rejected]


def claimed_message(ident: int, message: OutboxMessage) -> ClaimedMessage:
    """`message` as the outbox row `ident` hands it to a publisher."""
    return ClaimedMessage(
        id=ident,
        topic=message.topic,
        key=message.key,
        value=bytes(message.value),
        headers=freeze_headers(message.headers),
        run_id=message.run_id,
    )
