"""KafkaProducer.send_batch lets aiokafka's sender ship the first records of a big batch while
it enqueues the rest: a fan-out's 1,000 tasks took ~30 ms to enqueue, and with no await between
two records none left before the last was in. A stand-in for aiokafka's producer records how
much was enqueued each time another coroutine got the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from scenarist_bus.kafka import YIELD_EVERY, KafkaProducer
from scenarist_bus.port import OutgoingMessage

TOPIC = "t"


class _Ack:
    topic, partition, offset, timestamp = TOPIC, 0, 0, 0


class _RawProducer:
    def __init__(self) -> None:
        self.enqueued = 0

    async def send(self, topic: str, **_: Any) -> asyncio.Future[Any]:
        self.enqueued += 1
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(_Ack())
        return done


async def _seen_while_sending(count: int) -> tuple[list[int], int]:
    raw = _RawProducer()
    producer = KafkaProducer(raw)
    producer._known_topics.add(TOPIC)
    seen: list[int] = []
    sending = asyncio.create_task(
        producer.send_batch([OutgoingMessage(TOPIC, b"%d" % i) for i in range(count)])
    )

    async def watch() -> None:
        while not sending.done():
            seen.append(raw.enqueued)
            await asyncio.sleep(0)

    await asyncio.gather(sending, watch())
    return seen, len(sending.result())


async def test_a_big_batch_gives_the_loop_back_while_it_enqueues() -> None:
    count = 8 * YIELD_EVERY
    seen, acknowledged = await _seen_while_sending(count)
    assert acknowledged == count
    # Others ran with part of the batch in and part still to come, every YIELD_EVERY records.
    midway = sorted({n for n in seen if 0 < n < count})
    assert midway == [YIELD_EVERY * k for k in range(1, 8)]


async def test_a_small_batch_is_enqueued_in_one_go() -> None:
    seen, acknowledged = await _seen_while_sending(YIELD_EVERY)
    assert acknowledged == YIELD_EVERY
    assert not [n for n in seen if 0 < n < YIELD_EVERY]
