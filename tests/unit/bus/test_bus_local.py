"""LocalBus behaviour the contract suite cannot express portably: retention and topic growth."""

from __future__ import annotations

import pytest
from scenarist_bus.local import LocalBus
from scenarist_bus.port import BusClosedError, OutgoingMessage, TopicPartition, TopicSpec

TP = TopicPartition("t", 0)


async def _filled(
    n: int, *, trim_every: int | None = 10_000, max_retained_per_partition: int | None = None
) -> LocalBus:
    bus = LocalBus(trim_every=trim_every, max_retained_per_partition=max_retained_per_partition)
    await bus.create_topics([TopicSpec("t", 1)])
    await (await bus.producer()).send_batch([OutgoingMessage("t", b"%d" % i) for i in range(n)])
    return bus


async def test_trim_drops_only_what_every_group_committed() -> None:
    bus = await _filled(10, trim_every=None)
    fast, slow = bus.consumer("fast", ["t"]), bus.consumer("slow", ["t"])
    await fast.start()
    await slow.start()
    await fast.commit((await fast.getmany(timeout_ms=10))[:8])
    await slow.commit((await slow.getmany(timeout_ms=10))[:3])
    assert bus.trim_committed() == 3
    assert bus.log_start_offset(TP) == 3 and bus.end_offset(TP) == 10

    # A new member of the slow group resumes at its commit, which is still in memory.
    await slow.stop()
    again = bus.consumer("slow", ["t"])
    await again.start()
    assert [r.offset for r in await again.getmany(timeout_ms=10)] == list(range(3, 10))
    await bus.close()


async def test_unconsumed_topics_are_kept_unless_capped() -> None:
    kept = await _filled(50, trim_every=10)
    assert kept.log_start_offset(TP) == 0
    capped = await _filled(50, max_retained_per_partition=20)
    assert capped.log_start_offset(TP) == 30
    consumer = capped.consumer("late", ["t"])
    await consumer.start()
    first = (await consumer.getmany(timeout_ms=10))[0]
    assert first.offset == 30  # the earliest record kept


async def test_auto_trim_bounds_memory_of_a_consumed_topic() -> None:
    bus = LocalBus(trim_every=100)
    await bus.create_topics([TopicSpec("t", 1)])
    producer = await bus.producer()
    consumer = bus.consumer("g", ["t"])
    await consumer.start()
    for _ in range(10):
        await producer.send_batch([OutgoingMessage("t", b"x")] * 100)
        await consumer.commit(await consumer.getmany(timeout_ms=10, max_records=1000))
    assert bus.end_offset(TP) - bus.log_start_offset(TP) <= 100


async def test_create_topics_is_idempotent_and_grows() -> None:
    bus = LocalBus()
    await bus.create_topics([TopicSpec("t", 2)])
    await bus.create_topics([TopicSpec("t", 2)])
    assert bus.partitions("t") == 2
    await bus.create_topics([TopicSpec("t", 5)])
    assert bus.partitions("t") == 5
    await bus.create_topics([TopicSpec("t", 1)])  # never shrinks
    assert bus.partitions("t") == 5


async def test_closed_bus_refuses_work() -> None:
    bus = LocalBus()
    await bus.close()
    with pytest.raises(BusClosedError):
        await bus.producer()
