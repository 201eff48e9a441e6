"""The rate limiter contract: every implementation behaves the same."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from scenarist_limiter import Bucket, Limit, RateLimiter, acquire

pytestmark = pytest.mark.contract


def key() -> str:
    return uuid.uuid4().hex


async def until_allowed(limiter: RateLimiter, buckets: list[Bucket]) -> None:
    for _ in range(200):
        if (await limiter.try_take(buckets)).allowed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bucket never refilled")


async def test_burst_then_refusal_with_retry_after(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=0.5, burst=3))
    for _ in range(3):
        assert (await limiter.try_take([bucket])).allowed
    refused = await limiter.try_take([bucket])
    assert not refused.allowed
    assert 0 < refused.retry_after <= 2.0  # one token comes back every 2 s


async def test_buckets_refill(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=200, burst=1))
    assert (await limiter.try_take([bucket])).allowed
    await until_allowed(limiter, [bucket])


async def test_all_or_none(limiter: RateLimiter) -> None:
    roomy = Bucket(key(), Limit(rate=0.01, burst=2))
    empty = Bucket(key(), Limit(rate=0.01, burst=1))
    assert (await limiter.try_take([empty])).allowed
    for _ in range(3):
        assert not (await limiter.try_take([roomy, empty])).allowed
    # The refused takes spent nothing from the roomy bucket.
    assert (await limiter.try_take([roomy])).allowed
    assert (await limiter.try_take([roomy])).allowed
    assert not (await limiter.try_take([roomy])).allowed


async def test_buckets_are_independent(limiter: RateLimiter) -> None:
    first, second = Bucket(key(), Limit(0.01, 1)), Bucket(key(), Limit(0.01, 1))
    assert (await limiter.try_take([first])).allowed
    assert (await limiter.try_take([second])).allowed


async def test_cost_takes_several_tokens(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=0.01, burst=5))
    assert (await limiter.try_take([bucket], cost=4)).allowed
    assert not (await limiter.try_take([bucket], cost=2)).allowed
    assert (await limiter.try_take([bucket], cost=1)).allowed


async def test_cost_above_burst_is_refused(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="burst"):
        await limiter.try_take([Bucket(key(), Limit(1, 2))], cost=3)


async def test_unlimited_bucket_allows_until_blocked(limiter: RateLimiter) -> None:
    bucket = Bucket(key())
    for _ in range(20):
        assert (await limiter.try_take([bucket])).allowed
    await limiter.block(bucket.key, 30)
    refused = await limiter.try_take([bucket])
    assert not refused.allowed and 29 < refused.retry_after <= 30


async def test_block_refuses_a_limited_bucket_and_never_shortens(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=100, burst=10))
    await limiter.block(bucket.key, 60)
    await limiter.block(bucket.key, 5)  # an earlier, longer block stands
    refused = await limiter.try_take([bucket])
    assert not refused.allowed and 55 < refused.retry_after <= 60
    other = Bucket(key(), Limit(rate=100, burst=10))
    assert not (await limiter.try_take([other, bucket])).allowed
    assert (await limiter.try_take([other])).allowed


async def test_block_ends(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=1, burst=1))
    await limiter.block(bucket.key, 0.05)
    await until_allowed(limiter, [bucket])


async def test_acquire_waits_within_the_bound(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=100, burst=1))
    assert (await limiter.try_take([bucket])).allowed
    assert (await acquire(limiter, [bucket], max_wait=1.0)).allowed


async def test_acquire_refuses_beyond_the_bound(limiter: RateLimiter) -> None:
    bucket = Bucket(key(), Limit(rate=0.1, burst=1))
    assert (await limiter.try_take([bucket])).allowed
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    refused = await acquire(limiter, [bucket], max_wait=1.0, sleep=sleep)
    assert not refused.allowed and 1.0 < refused.retry_after <= 10.0
    assert slept == []  # it did not wait for what it could not get
