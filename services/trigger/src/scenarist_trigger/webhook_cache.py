"""Webhook lookups by token hash, cached for a moment: the ingress looks one up per request.

Only hits are cached (an unknown token costs a lookup, so scanning random tokens cannot fill the
cache). Every change made through this store (rotate, attach, update, delete, create) clears the
cache of this process at once; a change made by another trigger replica is seen here after at
most `ttl_seconds`, like the caching authenticator's tokens.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from scenarist_storage.models import JsonObject, Page
from scenarist_storage.ports import WebhookStore
from scenarist_storage.webhook_models import NewWebhook, WebhookAuthData, WebhookRecord

DEFAULT_TTL_SECONDS = 2.0
DEFAULT_CAPACITY = 10_000


class CachedWebhookStore:
    def __init__(
        self,
        inner: WebhookStore,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        self._hits: OrderedDict[bytes, tuple[float, WebhookRecord]] = OrderedDict()
        # One lookup per token at a time: when a busy webhook's entry expires, every request in
        # flight for it missed at once and each queried the store (64 queries at c=64).
        self._lookups: dict[bytes, asyncio.Future[WebhookRecord | None]] = {}
        self._generation = 0  # a lookup that started before a clear() caches nothing

    def clear(self) -> None:
        self._hits.clear()
        self._lookups.clear()
        self._generation += 1

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        cached = self._hits.get(token_hash)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._lookups.get(token_hash)
        if pending is not None:
            return await asyncio.shield(pending)
        lookup = asyncio.ensure_future(self._lookup(token_hash, self._generation))
        self._lookups[token_hash] = lookup
        lookup.add_done_callback(lambda done: self._finished(token_hash, done))
        return await asyncio.shield(lookup)

    def _finished(self, token_hash: bytes, done: asyncio.Future[WebhookRecord | None]) -> None:
        if self._lookups.get(token_hash) is done:
            del self._lookups[token_hash]
        if not done.cancelled():
            done.exception()  # retrieved: every caller may have gone (cancelled) before it failed

    async def _lookup(self, token_hash: bytes, generation: int) -> WebhookRecord | None:
        now = self._clock()
        record = await self._inner.find_by_token_hash(token_hash)
        if generation != self._generation:
            return record
        if record is None:
            self._hits.pop(token_hash, None)
            return None
        self._hits[token_hash] = (now + self._ttl, record)
        self._hits.move_to_end(token_hash)
        if len(self._hits) > self._capacity:
            self._hits.popitem(last=False)
        return record

    async def create(self, new: NewWebhook) -> WebhookRecord:
        self.clear()
        return await self._inner.create(new)

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> WebhookRecord | None:
        return await self._inner.get(org_id, webhook_id)

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[WebhookRecord]:
        return await self._inner.list(
            org_id, scenario_id=scenario_id, page_size=page_size, page_token=page_token
        )

    async def rotate(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        token: tuple[bytes, bytes] | None = None,
        auth: WebhookAuthData | None = None,
    ) -> WebhookRecord:
        # Cleared before and after: a lookup racing the write must not re-cache the old token.
        self.clear()
        try:
            return await self._inner.rotate(org_id, webhook_id, token=token, auth=auth)
        finally:
            self.clear()

    async def attach(
        self, org_id: uuid.UUID, webhook_id: uuid.UUID, scenario_id: uuid.UUID | None
    ) -> WebhookRecord:
        self.clear()
        try:
            return await self._inner.attach(org_id, webhook_id, scenario_id)
        finally:
            self.clear()

    async def update(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        name: str | None = None,
        options: JsonObject | None = None,
    ) -> WebhookRecord:
        self.clear()
        try:
            return await self._inner.update(org_id, webhook_id, name=name, options=options)
        finally:
            self.clear()

    async def delete(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
        self.clear()
        try:
            await self._inner.delete(org_id, webhook_id)
        finally:
            self.clear()
