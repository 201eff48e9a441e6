from __future__ import annotations

import uuid

from scenarist_bus.ids import new_id, new_uuid


def test_ids_are_random_version_4_uuids_and_distinct() -> None:
    ids = [new_uuid() for _ in range(5000)]  # crosses several refills of the buffer
    assert len(set(ids)) == len(ids)
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    text = new_id()
    assert str(uuid.UUID(text)) == text
