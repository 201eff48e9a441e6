"""One `limiter` fixture over both implementations of the rate limiter port.

Redis comes from SCENARIST_REDIS_URL, or `deploy/infra.sh up redis` (stopped again at the end
only if this session started it). Every test uses keys under a fresh prefix, so runs sharing a
Redis never see each other's buckets.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from scenarist_limiter import MemoryRateLimiter, RateLimiter
from scenarist_limiter.redis_limiter import RedisRateLimiter

INFRA = Path(__file__).resolve().parents[3] / "deploy" / "infra.sh"


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("SCENARIST_REDIS_URL"):
        yield url
        return
    was_up = _run(str(INFRA.parent / "redis" / "redis.sh"), "status", timeout=60).returncode == 0
    up = _run(str(INFRA), "up", "redis", timeout=300)
    if up.returncode != 0:
        pytest.fail(f"deploy/infra.sh up redis failed: {up.stderr[-2000:]}")
    found = None
    for line in _run(str(INFRA), "env", timeout=60).stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_REDIS_URL="):
            found = words[1].split("=", 1)[1]
    if found is None:
        pytest.fail("deploy/infra.sh env printed no SCENARIST_REDIS_URL")
    yield found
    if not was_up:
        _run(str(INFRA), "down", "redis", timeout=120)


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
