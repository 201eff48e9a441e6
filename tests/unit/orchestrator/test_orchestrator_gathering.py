"""The orchestrator gathers a fan-out's results into one batch (one state save) for up to its
gather time, and holds nothing else: a record of any other kind ends the gathering at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage, Record
from scenarist_orchestrator.loop import WIDE_RUN_TASKS, OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import BatchOutcome, RunProcessor
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from support.run_requests import send_run_request

WIDE, NARROW = "wide-run", "narrow-run"
# Long enough that a test which waited for it would time out instead of passing.
FOREVER_MS = 600_000


class Batches:
    """Stands in for the RunProcessor: the loop asks it how many tasks a run has out and hands
    it each batch."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def tasks_out(self, run_id: str) -> int:
        return WIDE_RUN_TASKS if run_id == WIDE else 1

    def forget(self) -> None:
        pass

    async def process(self, records: Sequence[Record], *args: Any, **kwargs: Any) -> BatchOutcome:
        self.sizes.append(len(records))
        return BatchOutcome()


async def _loop(
    gather_ms: int, batch_size: int = 500
) -> tuple[LocalBus, OrchestratorLoop, Batches]:
    bus, batches = LocalBus(), Batches()
    await bus.create_topics(topics.ALL_TOPICS)
    loop = OrchestratorLoop(
        bus,
        MemoryRunStore(),
        batches,  # type: ignore[arg-type]
        batch_size=batch_size,
        poll_ms=1,
        gather_ms=gather_ms,
    )
    await loop.start()
    return bus, loop, batches


async def _send(bus: LocalBus, run_id: str, count: int, topic: str = topics.TASKS_RESULTS) -> None:
    producer = await bus.producer()
    await producer.send_batch(
        [OutgoingMessage(topic, b"result", key=run_id.encode()) for _ in range(count)]
    )


async def test_results_of_a_wide_run_gather_into_one_batch() -> None:
    bus, loop, batches = await _loop(FOREVER_MS, batch_size=6)
    await _send(bus, WIDE, 3)
    batch = asyncio.create_task(loop.run_once())
    await asyncio.sleep(0)  # the loop has the first three and waits for more
    await _send(bus, WIDE, 3)
    assert await asyncio.wait_for(batch, 10) == 6  # a full batch ends the gathering
    assert batches.sizes == [6]
    await loop.stop()
    await bus.close()


async def test_any_other_record_ends_the_gathering_at_once() -> None:
    bus, loop, batches = await _loop(FOREVER_MS)
    await _send(bus, WIDE, 2)
    batch = asyncio.create_task(loop.run_once())
    await asyncio.sleep(0)
    await _send(bus, NARROW, 1)
    assert await asyncio.wait_for(batch, 10) == 3
    assert batches.sizes == [3]
    await loop.stop()
    await bus.close()


async def test_nothing_else_is_held() -> None:
    bus, loop, batches = await _loop(FOREVER_MS)
    await _send(bus, NARROW, 2)  # a run with one task out
    assert await asyncio.wait_for(loop.run_once(), 10) == 2
    await _send(bus, WIDE, 1, topic=topics.RUNS_REQUESTED)  # not a result
    assert await asyncio.wait_for(loop.run_once(), 10) == 1
    await _send(bus, WIDE, 1)
    await _send(bus, NARROW, 1)  # one batch: wide and narrow together
    assert await asyncio.wait_for(loop.run_once(), 10) == 2
    assert batches.sizes == [2, 1, 2]
    await loop.stop()
    await bus.close()


async def test_gathering_ends_with_its_time_and_can_be_turned_off() -> None:
    for gather_ms in (20, 0):
        bus, loop, batches = await _loop(gather_ms)
        await _send(bus, WIDE, 1)
        assert await asyncio.wait_for(loop.run_once(), 10) == 1
        assert batches.sizes == [1]
        await loop.stop()
        await bus.close()


FAN_OUT: dict[str, Any] = {
    "name": "twenty at once",
    "settings": {"parallel_bundles": 20},
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
        {"id": 3, "module": "util:FunctionSleep", "mapper": {"duration": 0}},
    ],
}


async def test_the_processor_counts_a_runs_tasks_out() -> None:
    bus, runs, scenarios = LocalBus(), MemoryRunStore(), MemoryScenarioStore()
    await bus.create_topics(topics.ALL_TOPICS)
    processor = RunProcessor(runs, PlanCache(scenarios))
    loop = OrchestratorLoop(bus, runs, processor, poll_ms=1)
    await loop.start()
    org = uuid.uuid4()
    scenario = await scenarios.create(org, "fan", FAN_OUT)
    run_id = str(uuid.uuid4())
    request = RunRequested(
        run_id=run_id,
        organization_id=str(org),
        scenario_id=str(scenario.id),
        trigger=orjson.dumps({"items": list(range(20))}).decode(),
        source=1,
    )
    await send_run_request(bus, request)
    for _ in range(50):  # bounded: the request is there, one poll or two take it
        if await loop.run_once():
            break
    assert processor.tasks_out(run_id) == 20
    assert processor.tasks_out(str(uuid.uuid4())) == 0  # not a run this process drives
    await loop.stop()
    await bus.close()
