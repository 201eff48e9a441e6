"""Postgres ClaimStore: one bytea row per body in the `claims` schema (see the migration)."""

from __future__ import annotations

from datetime import datetime

from scenarist_storage.claims import (
    JSON,
    ClaimNotFoundError,
    ClaimRef,
    digest,
    ref_for,
    sha_of_ref,
    verified,
)
from scenarist_storage.postgres import Pool, qualify

SCHEMA = "claims"
# Same bytes, same row: a second put only extends the expiry, never rewrites the body.
_PUT = """
INSERT INTO {s}.claims (sha256, size_bytes, content_type, body, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (sha256) DO UPDATE SET expires_at = GREATEST({s}.claims.expires_at, $5)
RETURNING content_type
"""
# Tried first: a body stored already (a step log's output equal to the trigger, a redelivered
# message) is not sent to the server again, only its expiry is extended.
_TOUCH = """
UPDATE {s}.claims SET expires_at = GREATEST(expires_at, $2) WHERE sha256 = $1
RETURNING content_type
"""
_GET = "SELECT body FROM {s}.claims WHERE sha256 = $1"
_DELETE = "DELETE FROM {s}.claims WHERE sha256 = ANY($1::text[])"
_EXPIRE = """
DELETE FROM {s}.claims WHERE sha256 IN (
    SELECT sha256 FROM {s}.claims WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
)
"""


class PgClaimStore:
    def __init__(self, pool: Pool, schema: str = SCHEMA) -> None:
        self._pool = pool
        self._put = qualify(_PUT, schema)
        self._touch = qualify(_TOUCH, schema)
        self._get = qualify(_GET, schema)
        self._delete = qualify(_DELETE, schema)
        self._expire = qualify(_EXPIRE, schema)

    async def put(self, data: bytes, *, expires_at: datetime, content_type: str = JSON) -> ClaimRef:
        sha = digest(data)
        stored = await self._pool.fetchval(self._touch, sha, expires_at)
        if stored is None:
            stored = await self._pool.fetchval(
                self._put, sha, len(data), content_type, data, expires_at
            )
        return ClaimRef(ref_for(sha), sha, len(data), str(stored))

    async def get(self, ref: ClaimRef) -> bytes:
        body = await self._pool.fetchval(self._get, sha_of_ref(ref.ref))
        if body is None:
            raise ClaimNotFoundError(f"claim {ref.ref} expired or never stored")
        return verified(ref, bytes(body))

    async def delete(self, refs: list[str]) -> int:
        shas = []
        for ref in refs:
            try:
                shas.append(sha_of_ref(ref))
            except ClaimNotFoundError:
                continue
        status = await self._pool.execute(self._delete, shas)
        return _count(status)

    async def expire(self, now: datetime, limit: int = 1000) -> int:
        return _count(await self._pool.execute(self._expire, now, limit))


def _count(status: str) -> int:
    # asyncpg returns the command tag, e.g. "DELETE 3".
    return int(status.rsplit(" ", 1)[-1])
