"""One `limiter` fixture over both implementations of the rate limiter port.

Redis comes from `redis_url` in tests/conftest.py. Every test uses keys under a fresh prefix, so
runs sharing a Redis never see each other's buckets.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from scenarist_limiter import MemoryRateLimiter, RateLimiter
from scenarist_limiter.redis_limiter import RedisRateLimiter


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        found: RateLimiter = MemoryRateLimiter()
    else:
        url = request.getfixturevalue("redis_url")
        found = RedisRateLimiter.from_url(url, prefix=f"test:rl:{uuid.uuid4().hex}:")
    try:
        yield found
    finally:
        await found.aclose()
