"""In-memory CaptureStore with the Postgres store's semantics (first request wins, bounded)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

from scenarist_storage.capture_models import MAX_CAPTURE_BYTES, CaptureRecord
from scenarist_storage.errors import NotFoundError
from scenarist_storage.memory._clock import Clock, utc_now


class MemoryCaptureStore:
    def __init__(
        self, owner_of: Callable[[uuid.UUID], uuid.UUID | None], clock: Clock = utc_now
    ) -> None:
        # owner_of: the organization of an existing webhook (captures need their webhook).
        self._owner_of = owner_of
        self._clock = clock
        self._rows: dict[uuid.UUID, CaptureRecord] = {}

    async def arm(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord:
        if self._owner_of(webhook_id) != org_id:
            raise NotFoundError(f"webhook {webhook_id} not found")
        record = CaptureRecord(webhook_id, org_id, True, self._clock(), None, "", b"", 0, False)
        self._rows[webhook_id] = record
        return record

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord | None:
        found = self._rows.get(webhook_id)
        return found if found is not None and found.org_id == org_id else None

    async def waiting(self) -> set[uuid.UUID]:
        return {w for w, r in self._rows.items() if r.waiting}

    async def capture(
        self, webhook_id: uuid.UUID, content_type: str, body: bytes
    ) -> CaptureRecord | None:
        found = self._rows.get(webhook_id)
        if found is None or not found.waiting:
            return None
        too_large = len(body) > MAX_CAPTURE_BYTES
        record = dataclasses.replace(
            found,
            waiting=False,
            captured_at=self._clock(),
            content_type=content_type[:200],
            body=b"" if too_large else bytes(body),
            body_bytes=len(body),
            too_large=too_large,
        )
        self._rows[webhook_id] = record
        return record
