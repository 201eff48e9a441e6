"""The rate limiter port: token buckets, taken all-or-none, with upstream blocks.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a call takes one
token from every bucket that governs it (say, its connection's and its app's) or from none, so a
refusal by one bucket never spends another's tokens. ``block`` empties a bucket until a moment
in the future: that is how an API's ``Retry-After`` is honoured by every replica at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Bucket", "Decision", "Limit", "RateLimiter", "acquire"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Limit:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate must be a positive number, not {self.rate!r}")
        if not (self.burst >= 1 and math.isfinite(self.burst)):
            raise ValueError(f"burst must be at least 1, not {self.burst!r}")


@dataclass(frozen=True)
class Bucket:
    """A named bucket; without a limit it only enforces blocks (an upstream Retry-After)."""

    key: str
    limit: Limit | None = None


@dataclass(frozen=True)
class Decision:
    """Whether the tokens were taken; if not, how many seconds until a take can succeed."""

    allowed: bool
    retry_after: float = 0.0


class RateLimiter(Protocol):
    async def try_take(self, buckets: Sequence[Bucket], cost: float = 1.0) -> Decision:
        """Take ``cost`` tokens from every bucket, or from none; never waits.

        Raises ValueError when ``cost`` exceeds a bucket's burst (it could never succeed).
        """
        ...

    async def block(self, key: str, seconds: float) -> None:
        """Refuse every take on ``key`` for ``seconds`` from now; an earlier block that ends
        later is kept (blocks only ever grow)."""
        ...

    async def aclose(self) -> None: ...


def check_cost(buckets: Sequence[Bucket], cost: float) -> None:
    if cost <= 0:
        raise ValueError(f"cost must be positive, not {cost!r}")
    for bucket in buckets:
        if bucket.limit is not None and cost > bucket.limit.burst:
            raise ValueError(f"cost {cost} exceeds the burst of bucket {bucket.key!r}")


async def acquire(
    limiter: RateLimiter,
    buckets: Sequence[Bucket],
    *,
    max_wait: float,
    cost: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> Decision:
    """Take tokens, waiting for them up to ``max_wait`` seconds in total.

    Returns the refusal (with the remaining ``retry_after``) as soon as waiting would exceed
    the bound, so a caller never holds a request open for a long rate limit.
    """
    waited = 0.0
    while True:
        decision = await limiter.try_take(buckets, cost)
        if decision.allowed or waited + decision.retry_after > max_wait:
            return decision
        await sleep(decision.retry_after)
        waited += decision.retry_after
