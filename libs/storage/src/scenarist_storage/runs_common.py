"""Validation both RunStore implementations apply before writing, so they fail alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scenarist_storage.models import OutboxMessage, StateWrite


def check_batch(batch: Sequence[StateWrite]) -> None:
    # Two writes of one run in one batch would make the outcome depend on row order.
    dupes = [run_id for run_id, n in Counter(w.run_id for w in batch).items() if n > 1]
    if dupes:
        raise ValueError(f"a run may be written once per batch: {dupes}")
    for write in batch:
        if write.operations < 0:
            raise ValueError(f"run {write.run_id}: operations must be >= 0")


def check_message(message: OutboxMessage) -> None:
    if not isinstance(message.value, bytes | bytearray | memoryview):
        raise TypeError("outbox value must be bytes")
