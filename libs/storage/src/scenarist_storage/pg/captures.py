"""Postgres CaptureStore: webhook data-structure captures in the trigger schema."""

from __future__ import annotations

import uuid

from scenarist_storage.capture_models import MAX_CAPTURE_BYTES, CaptureRecord
from scenarist_storage.errors import NotFoundError
from scenarist_storage.postgres import Pool, Record, qualify

_COLUMNS = """webhook_id, org_id, waiting, requested_at, captured_at, content_type, body,
body_bytes, too_large"""
# Only a webhook of the caller's organization can be armed (the SELECT finds nothing otherwise).
_ARM = """
INSERT INTO {s}.webhook_captures (webhook_id, org_id, waiting)
SELECT id, org_id, true FROM {s}.webhooks WHERE org_id = $1 AND id = $2
ON CONFLICT (webhook_id) DO UPDATE SET waiting = true, requested_at = now(), captured_at = NULL,
    content_type = '', body = ''::bytea, body_bytes = 0, too_large = false
RETURNING {cols}
"""
_GET = "SELECT {cols} FROM {s}.webhook_captures WHERE org_id = $1 AND webhook_id = $2"
_WAITING = "SELECT webhook_id FROM {s}.webhook_captures WHERE waiting"
_CAPTURE = """
UPDATE {s}.webhook_captures SET waiting = false, captured_at = now(), content_type = $2,
    body = $3, body_bytes = $4, too_large = $5
WHERE webhook_id = $1 AND waiting
RETURNING {cols}
"""


def _record(row: Record) -> CaptureRecord:
    return CaptureRecord(
        webhook_id=row["webhook_id"],
        org_id=row["org_id"],
        waiting=row["waiting"],
        requested_at=row["requested_at"],
        captured_at=row["captured_at"],
        content_type=row["content_type"],
        body=bytes(row["body"]),
        body_bytes=int(row["body_bytes"]),
        too_large=row["too_large"],
    )


class PgCaptureStore:
    def __init__(self, pool: Pool, schema: str = "trigger") -> None:
        self._pool = pool
        sqls = {"arm": _ARM, "get": _GET, "waiting": _WAITING, "capture": _CAPTURE}
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def arm(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord:
        row = await self._pool.fetchrow(self._q["arm"], org_id, webhook_id)
        if row is None:
            raise NotFoundError(f"webhook {webhook_id} not found")
        return _record(row)

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord | None:
        row = await self._pool.fetchrow(self._q["get"], org_id, webhook_id)
        return _record(row) if row is not None else None

    async def waiting(self) -> set[uuid.UUID]:
        return {row["webhook_id"] for row in await self._pool.fetch(self._q["waiting"])}

    async def capture(
        self, webhook_id: uuid.UUID, content_type: str, body: bytes
    ) -> CaptureRecord | None:
        too_large = len(body) > MAX_CAPTURE_BYTES
        row = await self._pool.fetchrow(
            self._q["capture"],
            webhook_id,
            content_type[:200],
            b"" if too_large else body,
            len(body),
            too_large,
        )
        return _record(row) if row is not None else None
