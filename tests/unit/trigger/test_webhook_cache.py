from __future__ import annotations

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
