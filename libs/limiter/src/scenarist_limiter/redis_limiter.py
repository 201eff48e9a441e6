"""The Redis rate limiter: every replica shares the buckets; a Lua script makes a take atomic.

Each bucket is a hash ``{tokens, ts, blocked}`` under ``<prefix><key>`` with a TTL long enough to
refill it (or to outlast its block), so idle buckets disappear by themselves. Time is the Redis
server's (``TIME``), never a replica's clock, so skewed replicas agree on refills and blocks.

A take touches all of a call's buckets in one script; in Redis Cluster those keys would have to
share a hash slot, so this targets a single Redis (or a primary with replicas), as deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from scenarist_limiter.port import Bucket, Decision, check_cost

__all__ = ["RedisRateLimiter"]

# KEYS: the buckets. ARGV[1]: cost; then per bucket: rate, burst (rate 0: no limit, only blocks).
# Returns {allowed (0/1), retry_after seconds as text} (Lua numbers would be truncated to ints).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local s = redis.call('HMGET', key, 'tokens', 'ts', 'blocked')
  local blocked = tonumber(s[3]) or 0
  if rate > 0 then
    local tokens = tonumber(s[1]) or burst
    local ts = tonumber(s[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
    if tokens < cost then wait = math.max(wait, (cost - tokens) / rate) end
    levels[i] = tokens
  end
  if blocked > now then wait = math.max(wait, blocked - now) end
end
if wait > 0 then return {0, tostring(wait)} end
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  if rate > 0 then
    local burst = tonumber(ARGV[2 * i + 1])
    redis.call('HSET', key, 'tokens', tostring(levels[i] - cost), 'ts', tostring(now))
    local blocked = tonumber(redis.call('HGET', key, 'blocked')) or 0
    local keep = math.max(burst / rate, blocked - now)
    redis.call('PEXPIRE', key, math.ceil(keep * 1000) + 1000)
  end
end
return {1, '0'}
"""

# KEYS[1]: the bucket. ARGV[1]: seconds to block from now; an existing later block is kept.
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked = math.max(tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0,
                         now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'blocked', tostring(blocked))
local need = math.ceil((blocked - now) * 1000) + 1000
if redis.call('PTTL', KEYS[1]) < need then redis.call('PEXPIRE', KEYS[1], need) end
return 1
"""


class RedisRateLimiter:
    def __init__(self, client: Redis, *, prefix: str = "scenarist:rl:", owned: bool = False):
        self._client = client
        self._prefix = prefix
        self._owned = owned
        self._take = client.register_script(_TAKE)
        self._block = client.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "scenarist:rl:") -> RedisRateLimiter:
        """A limiter with its own connection pool, closed by :meth:`aclose`."""
        return cls(Redis.from_url(url), prefix=prefix, owned=True)

    async def try_take(self, buckets: Sequence[Bucket], cost: float = 1.0) -> Decision:
        check_cost(buckets, cost)
        if not buckets:
            return Decision(True)
        args: list[Any] = [repr(float(cost))]
        for bucket in buckets:
            limit = bucket.limit
            args += [repr(limit.rate), repr(limit.burst)] if limit else ["0", "0"]
        keys = [self._prefix + bucket.key for bucket in buckets]
        allowed, wait = await self._take(keys=keys, args=args)
        return Decision(bool(int(allowed)), 0.0 if int(allowed) else float(wait))

    async def block(self, key: str, seconds: float) -> None:
        await self._block(keys=[self._prefix + key], args=[repr(max(0.0, float(seconds)))])

    def pool_usage(self) -> tuple[int, int]:
        """(connections checked out, pool maximum), for the pool saturation gauges."""
        pool: Any = self._client.connection_pool
        return len(getattr(pool, "_in_use_connections", ())), int(pool.max_connections)

    async def ping(self) -> bool:
        return bool(await self._client.ping())

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()
