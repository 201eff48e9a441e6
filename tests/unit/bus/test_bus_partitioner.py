"""murmur2 and the key partitioner must match Kafka's Java client bit for bit."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from scenarist_bus.partitioner import murmur2, partition_for_key, to_positive

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (signed Java ints).
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]

# Partitions out of 1000, verified against the Java DefaultPartitioner (kafka-python's suite).
PARTITION_VECTORS = [
    (b"", 681),
    (b"a", 524),
    (b"ab", 434),
    (b"abc", 107),
    (b"123456789", 566),
    (b"\x00 ", 742),
]


@pytest.mark.parametrize(("data", "expected"), JAVA_VECTORS)
def test_murmur2_matches_the_java_client(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


@pytest.mark.parametrize(("key", "partition"), PARTITION_VECTORS)
def test_partition_for_key_matches_the_java_partitioner(key: bytes, partition: int) -> None:
    assert partition_for_key(key, 1000) == partition


def test_to_positive_clears_the_sign_bit_rather_than_negating() -> None:
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0
    assert to_positive(5) == 5


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        partition_for_key(b"k", 0)


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=512))
def test_same_hash_and_partition_as_aiokafka(data: bytes, partitions: int) -> None:
    assert murmur2(data) & 0xFFFFFFFF == aiokafka_murmur2(data) & 0xFFFFFFFF
    assert partition_for_key(data, partitions) == (aiokafka_murmur2(data) & 0x7FFFFFFF) % partitions
