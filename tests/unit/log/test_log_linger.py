"""After a partial batch the log loops wait a moment for the next one to fill (fewer, larger
writes; in standalone mode they share the event loop with the runs), and a stop cuts it short."""

from __future__ import annotations

import asyncio

from scenarist_bus import topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage, Record, TopicSpec
from scenarist_log.loops import BatchLoop


async def _until(condition: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.005)


async def _loop(linger_ms: int) -> tuple[LocalBus, list[list[bytes]], BatchLoop[bytes]]:
    bus = LocalBus()
    await bus.create_topics([TopicSpec(topics.LOGS_STEPS, 1)])
    writes: list[list[bytes]] = []

    async def write(values: list[bytes]) -> None:
        writes.append(values)

    def decode(record: Record) -> bytes:
        return record.value

    return bus, writes, BatchLoop(bus, topics.LOGS_STEPS, decode, write, linger_ms=linger_ms)


async def _send(bus: LocalBus, *values: bytes) -> None:
    producer = await bus.producer()
    for value in values:
        await producer.send(OutgoingMessage(topics.LOGS_STEPS, value))


async def test_records_that_arrive_during_the_linger_are_written_together() -> None:
    bus, writes, loop = await _loop(linger_ms=60_000)
    stopping = asyncio.Event()
    running = asyncio.create_task(loop.run(stopping))
    await _send(bus, b"a")
    await _until(lambda: writes == [[b"a"]])
    await _send(bus, b"b", b"c")
    await asyncio.sleep(0.05)
    assert writes == [[b"a"]]  # lingering: b and c wait for the next batch
    stopping.set()
    await asyncio.wait_for(running, 5.0)  # the stop cuts the linger short
    await bus.close()


async def test_without_linger_the_next_batch_is_fetched_at_once() -> None:
    bus, writes, loop = await _loop(linger_ms=0)
    stopping = asyncio.Event()
    running = asyncio.create_task(loop.run(stopping))
    await _send(bus, b"a")
    await _until(lambda: writes == [[b"a"]])
    await _send(bus, b"b")
    await _until(lambda: len(writes) == 2)
    stopping.set()
    await asyncio.wait_for(running, 5.0)
    await bus.close()
