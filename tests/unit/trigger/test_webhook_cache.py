from __future__ import annotations

import asyncio
import uuid

from scenarist_storage.memory.webhooks import MemoryWebhookStore
from scenarist_storage.webhook_models import NewWebhook, WebhookRecord
from scenarist_trigger.webhook_cache import CachedWebhookStore


class CountingStore(MemoryWebhookStore):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        self.lookups += 1
        return await super().find_by_token_hash(token_hash)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _setup() -> tuple[CountingStore, CachedWebhookStore, Clock, WebhookRecord]:
    inner, clock = CountingStore(), Clock()
    cache = CachedWebhookStore(inner, ttl_seconds=2.0, clock=clock)
    org = uuid.uuid4()
    record = await cache.create(
        NewWebhook(uuid.uuid4(), org, uuid.uuid4(), "hook", b"h" * 32, b"sealed")
    )
    return inner, cache, clock, record


async def test_a_hit_is_served_from_the_cache_until_it_expires() -> None:
    inner, cache, clock, record = await _setup()
    assert await cache.find_by_token_hash(record.token_hash) == record
    assert await cache.find_by_token_hash(record.token_hash) == record
    assert inner.lookups == 1
    clock.now += 2.5
    assert await cache.find_by_token_hash(record.token_hash) == record
    assert inner.lookups == 2


async def test_unknown_tokens_are_not_cached() -> None:
    inner, cache, _, _ = await _setup()
    assert await cache.find_by_token_hash(b"x" * 32) is None
    assert await cache.find_by_token_hash(b"x" * 32) is None
    assert inner.lookups == 2


async def test_rotate_detach_and_delete_take_effect_at_once() -> None:
    _, cache, _, record = await _setup()
    await cache.find_by_token_hash(record.token_hash)
    await cache.rotate(record.org_id, record.id, token=(b"n" * 32, b"sealed2"))
    assert await cache.find_by_token_hash(record.token_hash) is None
    rotated = await cache.find_by_token_hash(b"n" * 32)
    assert rotated is not None
    await cache.attach(record.org_id, record.id, None)
    detached = await cache.find_by_token_hash(b"n" * 32)
    assert detached is not None and detached.scenario_id is None
    await cache.update(record.org_id, record.id, options={"max_body_bytes": 10})
    updated = await cache.find_by_token_hash(b"n" * 32)
    assert updated is not None and updated.options == {"max_body_bytes": 10}
    await cache.delete(record.org_id, record.id)
    assert await cache.find_by_token_hash(b"n" * 32) is None


async def test_the_cache_is_bounded() -> None:
    inner, clock = CountingStore(), Clock()
    cache = CachedWebhookStore(inner, capacity=2, clock=clock)
    org = uuid.uuid4()
    hashes = [bytes([i]) * 32 for i in range(3)]
    for i, token_hash in enumerate(hashes):
        await inner.create(NewWebhook(uuid.uuid4(), org, None, f"h{i}", token_hash, b"s"))
        await cache.find_by_token_hash(token_hash)
    await cache.find_by_token_hash(hashes[0])  # evicted first
    assert inner.lookups == 4


class GatedStore(CountingStore):
    """Lookups wait for the test to open the gate, so several requests miss at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        self.lookups += 1
        await self.gate.wait()
        return await MemoryWebhookStore.find_by_token_hash(self, token_hash)


async def _gated() -> tuple[GatedStore, CachedWebhookStore, WebhookRecord]:
    inner = GatedStore()
    cache = CachedWebhookStore(inner, ttl_seconds=2.0, clock=Clock())
    record = await cache.create(
        NewWebhook(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "hook", b"h" * 32, b"sealed")
    )
    return inner, cache, record


async def test_concurrent_misses_share_one_lookup() -> None:
    inner, cache, record = await _gated()
    waiting = [asyncio.ensure_future(cache.find_by_token_hash(record.token_hash)) for _ in range(5)]
    await asyncio.sleep(0)
    inner.gate.set()
    assert await asyncio.gather(*waiting) == [record] * 5
    assert inner.lookups == 1


async def test_a_lookup_older_than_a_change_is_not_cached_nor_joined() -> None:
    inner, cache, record = await _gated()
    first = asyncio.ensure_future(cache.find_by_token_hash(record.token_hash))
    await asyncio.sleep(0)
    cache.clear()  # what rotate/attach/update/delete do through this store
    second = asyncio.ensure_future(cache.find_by_token_hash(record.token_hash))
    await asyncio.sleep(0)
    inner.gate.set()
    await asyncio.gather(first, second)
    assert inner.lookups == 2  # the request after the change did not join the older lookup
    await cache.find_by_token_hash(record.token_hash)
    assert inner.lookups == 2  # the newer lookup's answer was cached


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_lookup() -> None:
    inner, cache, record = await _gated()
    leaving = asyncio.ensure_future(cache.find_by_token_hash(record.token_hash))
    staying = asyncio.ensure_future(cache.find_by_token_hash(record.token_hash))
    await asyncio.sleep(0)
    leaving.cancel()
    inner.gate.set()
    assert await staying == record
    assert inner.lookups == 1
