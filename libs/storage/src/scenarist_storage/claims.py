"""The claim-check port: large bodies are stored once and travel as a reference.

Kafka records are capped (1 MiB by default) and every consumer pays for big records, so a
producer whose body is above a threshold stores the bytes here and sends a `ClaimRef` instead
(proto `scenarist.common.v1.ClaimCheck`). The store is content-addressed: the ref is derived
from the SHA-256 of the bytes, so storing the same body twice keeps one row and a redelivered
message finds the same body. Nothing is ever updated in place; rows only expire.

See docs/adr/0006-claim-check-store.md for why this is a shared table next to "no service
reads another's tables".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scenarist_storage.errors import NotFoundError, StorageError

REF_PREFIX = "claim:sha256:"
JSON = "application/json"


class ClaimNotFoundError(NotFoundError):
    """No body under this ref: it expired, was deleted, or was never stored here."""


class ClaimCorruptError(StorageError):
    """The stored bytes do not match the ref's size or SHA-256."""


@dataclass(frozen=True)
class ClaimRef:
    """What a message carries instead of the body."""

    ref: str
    sha256: str
    size_bytes: int
    content_type: str = JSON


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ref_for(sha256: str) -> str:
    return REF_PREFIX + sha256


def sha_of_ref(ref: str) -> str:
    """The SHA-256 a ref names; ClaimNotFoundError for anything this store never produced."""
    sha = ref.removeprefix(REF_PREFIX)
    if sha == ref or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ClaimNotFoundError(f"not a claim-check ref: {ref[:80]!r}")
    return sha


def verified(ref: ClaimRef, data: bytes) -> bytes:
    """`data` if it is the body `ref` names, else ClaimCorruptError."""
    if len(data) != ref.size_bytes or digest(data) != ref.sha256:
        raise ClaimCorruptError(f"claim {ref.ref} does not match its size or digest")
    return data


class ClaimStore(Protocol):
    async def put(self, data: bytes, *, expires_at: datetime, content_type: str = JSON) -> ClaimRef:
        """Store `data` (idempotent: the same bytes give the same ref) and keep it at least
        until `expires_at`; a later put of the same bytes only ever extends the expiry."""
        ...

    async def get(self, ref: ClaimRef) -> bytes:
        """The body, verified against the ref's size and SHA-256. ClaimNotFoundError if it
        expired or was deleted; ClaimCorruptError if the bytes do not match."""
        ...

    async def delete(self, refs: list[str]) -> int:
        """Drop these bodies now (unknown refs are ignored); how many were deleted."""
        ...

    async def expire(self, now: datetime, limit: int = 1000) -> int:
        """Delete up to `limit` bodies whose expiry is at or before `now`; how many."""
        ...
