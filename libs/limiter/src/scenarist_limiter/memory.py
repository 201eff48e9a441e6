"""The in-process rate limiter (standalone mode, tests): one event loop, so no locks needed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scenarist_limiter.port import Bucket, Decision, check_cost

__all__ = ["MemoryRateLimiter"]


@dataclass
class _State:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class MemoryRateLimiter:
    """Token buckets in a dict; idle, full, unblocked buckets are forgotten now and then."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, max_buckets: int = 10_000
    ) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._states: dict[str, _State] = {}

    async def try_take(self, buckets: Sequence[Bucket], cost: float = 1.0) -> Decision:
        check_cost(buckets, cost)
        now = self._clock()
        wait = 0.0
        levels: list[float] = []
        for bucket in buckets:
            state = self._states.get(bucket.key)
            tokens = self._level(bucket, state, now)
            if bucket.limit is not None and tokens < cost:
                wait = max(wait, (cost - tokens) / bucket.limit.rate)
            if state is not None and state.blocked_until > now:
                wait = max(wait, state.blocked_until - now)
            levels.append(tokens)
        if wait > 0:
            return Decision(False, wait)
        for bucket, tokens in zip(buckets, levels, strict=True):
            if bucket.limit is not None:
                state = self._states.setdefault(bucket.key, _State(tokens, now))
                state.tokens, state.updated = tokens - cost, now
        self._sweep(now)
        return Decision(True)

    async def block(self, key: str, seconds: float) -> None:
        now = self._clock()
        # A bucket first seen here is full (infinite tokens are capped by the burst on take).
        state = self._states.setdefault(key, _State(float("inf"), now))
        state.blocked_until = max(state.blocked_until, now + max(0.0, seconds))
        self._sweep(now)

    async def aclose(self) -> None:
        self._states.clear()

    @staticmethod
    def _level(bucket: Bucket, state: _State | None, now: float) -> float:
        if bucket.limit is None:
            return float("inf")
        if state is None:
            return bucket.limit.burst
        refilled = state.tokens + max(0.0, now - state.updated) * bucket.limit.rate
        return min(bucket.limit.burst, refilled)

    def _sweep(self, now: float) -> None:
        if len(self._states) <= self._max_buckets:
            return
        # A bucket idle for an hour is full again for any sensible rate; forgetting it is exact
        # enough and keeps memory bounded however many connections come and go.
        stale = [
            key
            for key, state in self._states.items()
            if state.blocked_until <= now and now - state.updated > 3600
        ]
        for key in stale:
            del self._states[key]
