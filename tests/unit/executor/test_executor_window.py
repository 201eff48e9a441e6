"""The executor keeps a window of tasks in flight: a slot freed by a finished task takes the next
task at once (a slow task does not hold back the others, as a batch did), and each partition is
committed up to its first task still running."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from scenarist_bus import topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import (
    OutgoingMessage,
    Producer,
    Record,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
)
from scenarist_executor.loop import COMMIT_SECONDS, GROUP, ExecutorLoop
from scenarist_executor.worker import BatchOutput, TaskWorker

TP = TopicPartition(topics.TASKS_MODULE, 0)


class GatedWorker(TaskWorker):
    """Each task runs until the test opens its gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gates: dict[bytes, asyncio.Event] = {}
        self.started: list[bytes] = []
        self.fail: set[bytes] = set()

    def gate(self, value: bytes) -> asyncio.Event:
        return self.gates.setdefault(value, asyncio.Event())

    async def handle(
        self, records: Sequence[Record], *, consumer_group: str | None = None
    ) -> BatchOutput:
        for record in records:
            self.started.append(record.value)
            await self.gate(record.value).wait()
            if record.value in self.fail:
                raise RuntimeError("the broker is away")
        return BatchOutput(
            results=[OutgoingMessage(topics.TASKS_RESULTS, r.value) for r in records]
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class GatedProducer:
    """Records what each send carried; a send waits while the gate is closed."""

    def __init__(self, real: Producer) -> None:
        self.real = real
        self.sent: list[list[bytes]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        self.sent.append([m.value for m in msgs])
        await self.gate.wait()
        return await self.real.send_batch(msgs)


async def _loop(
    values: list[bytes], window: int, clock: Clock | None = None, gather_ms: int = 0
) -> tuple[LocalBus, GatedWorker, ExecutorLoop]:
    bus = LocalBus()
    await bus.create_topics([TopicSpec(topics.TASKS_MODULE, 1), TopicSpec(topics.TASKS_RESULTS, 1)])
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage(topics.TASKS_MODULE, v) for v in values])
    worker = GatedWorker()
    loop = ExecutorLoop(
        bus, worker, batch_size=window, poll_ms=1, gather_ms=gather_ms, clock=clock or Clock()
    )
    await loop.start()
    return bus, worker, loop


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_freed_slot_takes_the_next_task_while_a_slow_one_runs() -> None:
    bus, worker, loop = await _loop([b"slow", b"fast", b"next"], window=2)
    await loop.fill_window()
    await _settle()
    assert worker.started == [b"slow", b"fast"]
    worker.gate(b"fast").set()
    await _settle()
    await loop.fill_window()  # "fast" ended: its slot takes "next"; "slow" still runs
    await _settle()
    assert worker.started == [b"slow", b"fast", b"next"]
    await loop.flush()
    assert bus.committed(GROUP, TP) is None  # "slow" (offset 0) holds the partition's commit
    worker.gate(b"slow").set()
    await _settle()
    await loop.fill_window()
    await loop.flush()
    assert bus.committed(GROUP, TP) == 2  # up to "next", still running
    worker.gate(b"next").set()
    await _settle()
    await loop.fill_window()
    await loop.flush()
    assert bus.committed(GROUP, TP) == 3
    await loop.stop()
    await bus.close()


async def test_a_failed_publish_fails_the_loop_and_is_not_committed() -> None:
    bus, worker, loop = await _loop([b"a", b"b"], window=2)
    worker.fail.add(b"a")
    await loop.fill_window()
    await _settle()
    worker.gate(b"a").set()
    worker.gate(b"b").set()
    await _settle()
    with pytest.raises(RuntimeError, match="broker is away"):
        await loop.fill_window()
    assert bus.committed(GROUP, TP) is None  # "b" ended, but "a" before it did not
    await loop.stop()
    await bus.close()


async def test_stop_drains_running_tasks_and_commits_them() -> None:
    bus, worker, loop = await _loop([b"a"], window=4)
    stopping = asyncio.Event()
    await loop.stop()  # run() starts it again
    running = asyncio.create_task(loop.run(stopping))
    async with asyncio.timeout(5.0):
        while worker.started != [b"a"]:
            await asyncio.sleep(0.001)
    stopping.set()
    await _settle()
    worker.gate(b"a").set()
    await asyncio.wait_for(running, 5.0)
    assert bus.committed(GROUP, TP) == 1
    await bus.close()


async def test_results_that_end_during_a_send_leave_together_in_the_next() -> None:
    bus, worker, loop = await _loop([b"a", b"b", b"c", b"d"], window=4)
    producer = GatedProducer(loop._producer)  # type: ignore[arg-type]
    loop._producer = producer  # type: ignore[assignment]
    await loop.fill_window()
    producer.gate.clear()
    worker.gate(b"a").set()
    await _settle()
    assert producer.sent == [[b"a"]]  # in flight, held by the broker
    for value in (b"b", b"c", b"d"):
        worker.gate(value).set()
    await _settle()
    producer.gate.set()
    await _settle()
    assert producer.sent == [[b"a"], [b"b", b"c", b"d"]]
    await loop.stop()
    await bus.close()


async def test_done_tasks_are_committed_once_per_interval() -> None:
    clock = Clock()
    bus, worker, loop = await _loop([b"a", b"b"], window=2, clock=clock)
    await loop.fill_window()
    worker.gate(b"a").set()
    await _settle()
    await loop.fill_window()
    await _settle()
    assert bus.committed(GROUP, TP) is None  # published, not yet committed: not due
    clock.now += COMMIT_SECONDS
    await loop.fill_window()
    await _settle()
    assert bus.committed(GROUP, TP) == 1
    worker.gate(b"b").set()
    await _settle()
    await loop.fill_window()
    await _settle()
    assert bus.committed(GROUP, TP) == 1  # the next commit waits for the next interval
    clock.now += COMMIT_SECONDS
    await loop.fill_window()
    await _settle()
    assert bus.committed(GROUP, TP) == 2
    await loop.stop()
    await bus.close()


async def test_a_result_that_ends_during_a_commit_leaves_when_the_commit_ends() -> None:
    """Not at the next poll: a sequential run waits for each result (workload 3 lost up to a
    poll interval per step behind the commits)."""
    clock = Clock()
    bus, worker, loop = await _loop([b"a", b"b"], window=2, clock=clock)
    producer = GatedProducer(loop._producer)  # type: ignore[arg-type]
    loop._producer = producer  # type: ignore[assignment]
    consumer = loop._consumer
    assert consumer is not None
    commit_gate, real_commit = asyncio.Event(), consumer.commit

    async def held_commit(records: Sequence[Record]) -> None:
        await commit_gate.wait()
        await real_commit(records)

    consumer.commit = held_commit  # type: ignore[method-assign]
    await loop.fill_window()
    clock.now += COMMIT_SECONDS
    worker.gate(b"a").set()
    await _settle()  # "a" published, its commit held by the broker
    assert producer.sent == [[b"a"]]
    worker.gate(b"b").set()
    await _settle()
    assert producer.sent == [[b"a"]]  # waits for the flush in flight
    commit_gate.set()
    await _settle()
    assert producer.sent == [[b"a"], [b"b"]]  # no fill_window call in between
    await loop.stop()
    await bus.close()


async def _gathering(
    values: list[bytes], window: int, gather_ms: int
) -> tuple[LocalBus, GatedWorker, ExecutorLoop, GatedProducer]:
    """A loop whose window is filled and whose sends are recorded."""
    bus, worker, loop = await _loop(values, window=window, gather_ms=gather_ms)
    producer = GatedProducer(loop._producer)  # type: ignore[arg-type]
    loop._producer = producer  # type: ignore[assignment]
    await loop.fill_window()
    await _settle()
    return bus, worker, loop, producer


async def _until_sent(producer: GatedProducer, count: int, within_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while len(producer.sent) < count:
        assert asyncio.get_running_loop().time() < deadline, producer.sent
        await asyncio.sleep(0.001)


async def test_results_of_tasks_that_ran_together_leave_in_one_send() -> None:
    bus, worker, loop, producer = await _gathering(
        [b"a", b"b", b"c", b"d"], window=4, gather_ms=60_000
    )
    worker.gate(b"a").set()
    await _settle()
    assert producer.sent == []  # "a" waits for the three that ran beside it
    for value in (b"b", b"c", b"d"):
        worker.gate(value).set()
    await _until_sent(producer, 1)
    assert producer.sent == [[b"a", b"b", b"c", b"d"]]
    await loop.stop()
    await bus.close()


async def test_a_result_waits_for_the_others_no_longer_than_the_gather_time() -> None:
    bus, worker, loop, producer = await _gathering([b"a", b"slow"], window=2, gather_ms=20)
    worker.gate(b"a").set()
    await _until_sent(producer, 1)
    assert producer.sent == [[b"a"]]  # "slow" still runs
    worker.gate(b"slow").set()
    await _until_sent(producer, 2)
    assert producer.sent == [[b"a"], [b"slow"]]
    await loop.stop()
    await bus.close()


async def test_a_task_running_alone_sends_its_result_at_once() -> None:
    # A sequential scenario's step: nothing ran beside it, so nothing is waited for.
    bus, worker, loop, producer = await _gathering([b"a"], window=4, gather_ms=60_000)
    worker.gate(b"a").set()
    await _settle()
    assert producer.sent == [[b"a"]]
    await loop.stop()
    await bus.close()


async def test_tasks_started_after_a_result_ended_are_not_waited_for() -> None:
    bus, worker, loop, producer = await _gathering([b"a", b"b", b"c"], window=2, gather_ms=60_000)
    worker.gate(b"a").set()
    await _settle()
    await loop.fill_window()  # "a"'s slot takes "c" while "a" waits for "b"
    await _settle()
    assert worker.started == [b"a", b"b", b"c"]
    assert producer.sent == []
    worker.gate(b"b").set()
    await _until_sent(producer, 1)
    assert producer.sent == [[b"a", b"b"]]  # not held for "c", which started later
    worker.gate(b"c").set()
    await _until_sent(producer, 2)
    await loop.stop()
    await bus.close()
