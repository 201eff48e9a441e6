"""The reply waiter reads run events from the last minute on, not the topic's whole retention
(a fresh consumer group per process: every restart read every event ever kept)."""

from __future__ import annotations

import time

from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_trigger.waiter import ResponseWaiter


def _event(reply_to: str) -> RunEvent:
    return RunEvent(
        run_id="r", reply_to=reply_to, type=RunEventType.RUN_EVENT_TYPE_FINISHED, result="{}"
    )


async def _publish(bus: LocalBus, reply_to: str) -> None:
    producer = await bus.producer()
    await producer.send(
        envelope.wrap(
            topics.RUNS_EVENTS,
            _event(reply_to),
            event_type=envelope.RUN_EVENT,
            run_id="r",
            organization_id="o",
            source="test",
        )
    )


async def test_the_backlog_before_the_waiter_is_not_read() -> None:
    bus = LocalBus()
    await bus.create_topics(topics.ALL_TOPICS)
    for n in range(20):
        await _publish(bus, f"old-{n}")
    waiter = ResponseWaiter(bus)
    waiter._since_ms = int(time.time() * 1000) + 1  # as if started well after those events
    await waiter.start()
    assert waiter._consumer is not None
    assert set((await waiter._consumer.lag()).values()) == {0}  # positioned at the end
    await bus.close()
