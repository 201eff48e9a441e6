"""Kafka's default key partitioner, bit for bit, so LocalBus puts keys where Kafka would.

The orchestrator relies on "one run_id, one partition, one owner"; using Kafka's own hash means a
key maps to the same partition number in standalone and distributed mode, and tests written
against one bus hold on the other.
"""

from __future__ import annotations

from functools import lru_cache

_MASK = 0xFFFFFFFF
_M = 0x5BD1E995
_SEED = 0x9747B28C


def murmur2(data: bytes) -> int:
    """org.apache.kafka.common.utils.Utils.murmur2: the 32-bit hash as a signed Java int."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    full = length & ~3
    for i in range(0, full, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    # Java falls through the switch: 3 mixes bytes 2, 1 and 0; 2 mixes 1 and 0; 1 mixes byte 0.
    if tail >= 3:
        h ^= data[full + 2] << 16
    if tail >= 2:
        h ^= data[full + 1] << 8
    if tail >= 1:
        h ^= data[full]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def to_positive(n: int) -> int:
    """Utils.toPositive: clears the sign bit (not abs(), which differs for negative numbers)."""
    return n & 0x7FFFFFFF


@lru_cache(maxsize=8192)
def partition_for_key(key: bytes, num_partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a non-null key. Cached: a run's
    messages (request, events, step logs) share its id as their key, and the hash in Python
    was ~1 % of the standalone webhook path."""
    if num_partitions <= 0:
        raise ValueError("num_partitions must be positive")
    return to_positive(murmur2(key)) % num_partitions
