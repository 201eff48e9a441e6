"""API token authentication for every gRPC call of the process, with a short cache.

Each call would otherwise cost a Postgres round trip. Entries live `ttl_seconds` (default 2 s),
so a token revoked by another replica stops working within that time, and at once in the replica
that revoked it (TokenService calls `forget`). Unknown tokens are cached too, so a client retrying
with a bad token does not hammer the database; the cache is bounded (LRU). Keys are SHA-256
digests: the process never keeps secrets it does not need.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from scenarist_storage.models import Principal
from scenarist_storage.ports import IdentityStore


class CachingAuthenticator:
    def __init__(
        self,
        identity: IdentityStore,
        *,
        ttl_seconds: float = 2.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._identity = identity
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[Principal | None, float]] = OrderedDict()

    async def authenticate(self, secret: str) -> Principal | None:
        key = hashlib.sha256(secret.encode("utf-8")).digest()
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[1] > now:
            self._entries.move_to_end(key)
            return hit[0]
        principal = await self._identity.authenticate(secret)
        self._entries[key] = (principal, now + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return principal

    def forget(self, token_id: uuid.UUID) -> None:
        """Drop the cached principal of `token_id` (it was just revoked here)."""
        stale = [
            k for k, (p, _) in self._entries.items() if p is not None and p.token_id == token_id
        ]
        for key in stale:
            del self._entries[key]
