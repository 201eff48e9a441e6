"""Postgres ClaimStore: one bytea row per body in the `claims` schema (see the migration)."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol, cast

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
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
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
# A big body is streamed in (COPY, a chunk at a time) instead of sent as one bind parameter:
# asyncpg builds a parameter in one buffer that it grows by doubling, which costs ~2.5x the
# body at once (26 MiB for a 10 MB body, against ~1 MiB streamed). COPY cannot upsert, so the
# body lands in a per-session temporary table emptied at commit and is inserted from there.
_UPLOAD_TABLE = """
CREATE TEMPORARY TABLE IF NOT EXISTS scenarist_claim_upload (body bytea NOT NULL)
ON COMMIT DELETE ROWS
"""
_PUT_UPLOADED = """
INSERT INTO {s}.claims (sha256, size_bytes, content_type, body, expires_at)
SELECT $1, $2, $3, u.body, $4 FROM pg_temp.scenarist_claim_upload u
ON CONFLICT (sha256) DO UPDATE SET expires_at = GREATEST({s}.claims.expires_at, $4)
RETURNING content_type
"""
STREAM_ABOVE_BYTES = 1024 * 1024
STREAM_CHUNK_BYTES = 256 * 1024
_GET = "SELECT body FROM {s}.claims WHERE sha256 = $1"
_DELETE = "DELETE FROM {s}.claims WHERE sha256 = ANY($1::text[])"
_EXPIRE = """
DELETE FROM {s}.claims WHERE sha256 IN (
    SELECT sha256 FROM {s}.claims WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
)
"""


class _Copying(Protocol):
    """The part of asyncpg's connection COPY needs (the shared Connection protocol stays
    minimal)."""

    async def copy_to_table(
        self,
        table_name: str,
        *,
        source: AsyncIterator[bytes],
        columns: list[str],
        schema_name: str,
        format: str,
    ) -> str: ...


class PgClaimStore:
    def __init__(self, pool: Pool, schema: str = SCHEMA) -> None:
        self._pool = pool
        self._put = qualify(_PUT, schema)
        self._put_uploaded = qualify(_PUT_UPLOADED, schema)
        self._touch = qualify(_TOUCH, schema)
        self._get = qualify(_GET, schema)
        self._delete = qualify(_DELETE, schema)
        self._expire = qualify(_EXPIRE, schema)

    async def put(self, data: bytes, *, expires_at: datetime, content_type: str = JSON) -> ClaimRef:
        sha = digest(data)
        stored = await self._pool.fetchval(self._touch, sha, expires_at)
        if stored is None and len(data) > STREAM_ABOVE_BYTES:
            stored = await self._stream(sha, data, content_type, expires_at)
        elif stored is None:
            stored = await self._pool.fetchval(
                self._put, sha, len(data), content_type, data, expires_at
            )
        return ClaimRef(ref_for(sha), sha, len(data), str(stored))

    async def _stream(
        self, sha: str, data: bytes, content_type: str, expires_at: datetime
    ) -> object:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_UPLOAD_TABLE)
            await cast(_Copying, conn).copy_to_table(
                "scenarist_claim_upload",
                schema_name="pg_temp",
                source=_copy_rows(data),
                format="binary",
                columns=["body"],
            )
            return await conn.fetchval(self._put_uploaded, sha, len(data), content_type, expires_at)

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


async def _copy_rows(data: bytes) -> AsyncIterator[bytes]:
    """`data` as the one row of a binary COPY, a chunk at a time (the format: signature,
    flags and header extension; per row the field count and each field's length and bytes;
    then -1)."""
    yield _COPY_SIGNATURE + struct.pack("!iihi", 0, 0, 1, len(data))
    view = memoryview(data)
    for start in range(0, len(data), STREAM_CHUNK_BYTES):
        yield bytes(view[start : start + STREAM_CHUNK_BYTES])
    yield struct.pack("!h", -1)


def _count(status: str) -> int:
    # asyncpg returns the command tag, e.g. "DELETE 3".
    return int(status.rsplit(" ", 1)[-1])
