"""Rate limits shared by the connector gateway's calls: the port and its two implementations.

``MemoryRateLimiter`` serves one process (standalone mode, tests); ``RedisRateLimiter`` shares
buckets between replicas. Both pass ``tests/contract/limiter``.
"""

from __future__ import annotations

from scenarist_limiter.memory import MemoryRateLimiter
from scenarist_limiter.port import Bucket, Decision, Limit, RateLimiter, acquire

__all__ = ["Bucket", "Decision", "Limit", "MemoryRateLimiter", "RateLimiter", "acquire"]
