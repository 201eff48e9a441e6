"""The orchestrator commits its offsets at most every COMMIT_EVERY_SECONDS (a fan-out's results
come a few per batch, and a commit per batch was a broker request per batch), and commits what
it processed before its partitions move or it stops."""

from __future__ import annotations

from scenarist_bus import topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage, TopicPartition
from scenarist_orchestrator.loop import COMMIT_EVERY_SECONDS, GROUP, OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def _loop() -> tuple[LocalBus, OrchestratorLoop, Clock]:
    bus, runs, clock = LocalBus(), MemoryRunStore(), Clock()
    await bus.create_topics(topics.ALL_TOPICS)
    processor = RunProcessor(runs, PlanCache(MemoryScenarioStore()))
    loop = OrchestratorLoop(bus, runs, processor, poll_ms=1, clock=clock)
    await loop.start()
    return bus, loop, clock


async def _undecodable(bus: LocalBus, count: int) -> TopicPartition:
    """Records the loop consumes (and dead-letters): enough to move its offsets."""
    producer = await bus.producer()
    sent = await producer.send_batch(
        [OutgoingMessage(topics.TASKS_RESULTS, b"junk", key=b"run") for _ in range(count)]
    )
    return TopicPartition(topics.TASKS_RESULTS, sent[0].partition)


async def test_offsets_are_committed_once_per_interval() -> None:
    bus, loop, clock = await _loop()
    tp = await _undecodable(bus, 2)
    assert await loop.run_once() == 2
    assert await loop.run_once() == 0
    assert bus.committed(GROUP, tp) is None  # processed, not due yet
    clock.now += COMMIT_EVERY_SECONDS
    await loop.run_once()  # an idle poll commits what is due
    await loop.run_once()
    assert bus.committed(GROUP, tp) == 2
    await _undecodable(bus, 1)
    assert await loop.run_once() == 1
    await loop.run_once()
    assert bus.committed(GROUP, tp) == 2
    await loop.stop()  # stopping commits what was processed
    assert bus.committed(GROUP, tp) == 3
    await bus.close()
