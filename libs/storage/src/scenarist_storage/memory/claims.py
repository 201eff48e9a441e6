"""In-process ClaimStore for standalone mode and tests: same semantics as the Postgres one."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass
class _Row:
    body: bytes
    content_type: str
    expires_at: datetime


class MemoryClaimStore:
    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}

    async def put(self, data: bytes, *, expires_at: datetime, content_type: str = JSON) -> ClaimRef:
        sha = digest(data)
        row = self._rows.get(sha)
        if row is None:
            self._rows[sha] = _Row(bytes(data), content_type, expires_at)
        else:
            row.expires_at = max(row.expires_at, expires_at)
        return ClaimRef(ref_for(sha), sha, len(data), self._rows[sha].content_type)

    async def get(self, ref: ClaimRef) -> bytes:
        row = self._rows.get(sha_of_ref(ref.ref))
        if row is None:
            raise ClaimNotFoundError(f"claim {ref.ref} expired or never stored")
        return verified(ref, row.body)

    async def delete(self, refs: list[str]) -> int:
        deleted = 0
        for ref in refs:
            try:
                deleted += self._rows.pop(sha_of_ref(ref), None) is not None
            except ClaimNotFoundError:
                continue
        return deleted

    async def expire(self, now: datetime, limit: int = 1000) -> int:
        due = sorted((row.expires_at, sha) for sha, row in self._rows.items())
        gone = [sha for at, sha in due[:limit] if at <= now]
        for sha in gone:
            del self._rows[sha]
        return len(gone)
