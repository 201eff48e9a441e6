"""An outbox row the broker can never take goes to the dead-letter topic; the loop goes on and
the other rows are published."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from scenarist_bus import topics
from scenarist_bus.dlq import H_ERROR_TYPE, H_ORIGINAL_TOPIC
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage import OutboxMessage
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore


async def test_an_unpublishable_outbox_row_is_dead_lettered_not_fatal() -> None:
    bus, runs = LocalBus(), MemoryRunStore()
    await bus.create_topics(topics.ALL_TOPICS)
    loop = OrchestratorLoop(bus, runs, RunProcessor(runs, PlanCache(MemoryScenarioStore())))
    await loop.start()
    run_id = uuid.uuid4()
    await runs.save_states(
        [],
        [
            OutboxMessage(topics.RUNS_EVENTS, b"k", b"good-1", (), run_id),
            OutboxMessage("no.such.topic", b"k", b"poison", (("traceparent", b"x"),), run_id),
            OutboxMessage(topics.RUNS_EVENTS, b"k", b"good-2", (), run_id),
        ],
    )
    events = bus.consumer("test-events", (topics.RUNS_EVENTS,))
    dlq = bus.consumer("test-dlq", (topics.DLQ,))
    await events.start()
    await dlq.start()

    assert await loop.relay() == 3
    assert [r.value for r in await events.getmany(10, 100)] == [b"good-1", b"good-2"]
    [dead] = await dlq.getmany(10, 100)
    headers = dict(dead.headers)
    assert dead.value == b"poison" and headers[H_ORIGINAL_TOPIC] == b"no.such.topic"
    assert headers[H_ERROR_TYPE] == b"unpublishable" and headers["traceparent"] == b"x"
    assert await runs.claim_outbox(10, lease_seconds=0) == []  # published or dead-lettered
    await loop.stop()


class CountingProducer:
    """The bus's producer, counting the single sends the loop makes per topic."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sends: Counter[str] = Counter()

    async def send(self, message: OutgoingMessage) -> Any:
        self.sends[message.topic] += 1
        return await self.inner.send(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_missing_topic_is_asked_for_once_per_batch() -> None:
    bus, runs = LocalBus(), MemoryRunStore()
    await bus.create_topics(topics.ALL_TOPICS)
    loop = OrchestratorLoop(bus, runs, RunProcessor(runs, PlanCache(MemoryScenarioStore())))
    await loop.start()
    counting = CountingProducer(loop._producer)
    loop._producer = counting  # type: ignore[assignment]
    poison = [OutboxMessage("gone.topic", b"k", f"p{i}".encode()) for i in range(50)]
    await runs.save_states([], [OutboxMessage(topics.RUNS_EVENTS, b"k", b"good"), *poison])
    dlq = bus.consumer("test-dlq", (topics.DLQ,))
    await dlq.start()

    assert await loop.relay() == 51
    assert counting.sends["gone.topic"] == 1  # then the rest of its rows went straight to the DLQ
    dead = await dlq.getmany(100, 100)
    assert [r.value for r in dead] == [m.value for m in poison]
    assert {dict(r.headers)[H_ERROR_TYPE] for r in dead} == {b"unpublishable"}
