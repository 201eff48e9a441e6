"""A batch whose partitions moved in a rebalance is handed back, and the consumer goes on."""

from __future__ import annotations

from scenarist_bus.consuming import commit_or_hand_back
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage, TopicSpec


async def test_a_commit_after_losing_the_partitions_hands_the_batch_back() -> None:
    bus = LocalBus()
    await bus.create_topics([TopicSpec("t", 4)])
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage("t", b"v", str(n).encode()) for n in range(40)])
    first = bus.consumer("g", ["t"])
    await first.start()
    batch = await first.getmany(100, 1000)
    assert batch
    second = bus.consumer("g", ["t"])
    await second.start()  # the group rebalances: `first` keeps only some partitions
    assert await commit_or_hand_back(first, batch) is False
    # The records `first` lost are delivered to `second`, which can commit them.
    redelivered = await second.getmany(100, 1000)
    assert redelivered
    assert await commit_or_hand_back(second, redelivered) is True
