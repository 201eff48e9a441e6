"""Cancelling runs in the processor: the row turns "cancelled", a CANCELLED event is emitted and
results still arriving for the run change nothing (in-process bus and stores, stepped by hand)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, RunRequested
from scenarist.run.v1.run_pb2 import RunStatus
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore

SLOW: dict[str, Any] = {
    "name": "slow",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "util:FunctionSleep", "mapper": {"duration": 5}},
        {"id": 3, "module": "util:ComposeTransformer", "mapper": {"value": "done"}},
    ],
}


async def _no_sleep(_: float) -> None:
    return None


class Stack:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        processor = RunProcessor(self.runs, PlanCache(self.scenarios))
        self.orchestrator = OrchestratorLoop(self.bus, self.runs, processor, poll_ms=1)
        self.executor = ExecutorLoop(self.bus, TaskWorker(sleep=_no_sleep), poll_ms=1)
        self.org = uuid.uuid4()

    async def start(self) -> None:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        await self.executor.start()

    async def send(self, kind: str, run_id: str, scenario_id: uuid.UUID) -> None:
        payload = RunRequested(
            run_id=run_id,
            organization_id=str(self.org),
            scenario_id=str(scenario_id),
            trigger=orjson.dumps({}).decode() if kind == envelope.RUN_REQUESTED else "",
        )
        producer = await self.bus.producer()
        await producer.send(
            envelope.wrap(
                topics.RUNS_REQUESTED,
                payload,
                event_type=kind,
                run_id=run_id,
                organization_id=str(self.org),
                source="test",
            )
        )

    async def status(self, run_id: str) -> str:
        record = await self.runs.get(self.org, uuid.UUID(run_id))
        assert record is not None
        return record.status

    async def events(self) -> list[RunEvent]:
        consumer = self.bus.consumer(f"events-{uuid.uuid4()}", (topics.RUNS_EVENTS,))
        await consumer.start()
        decoded = [envelope.unwrap(r).payload for r in await consumer.getmany(100, 10_000)]
        return [e for e in decoded if isinstance(e, RunEvent)]


async def test_a_cancelled_run_ignores_the_results_still_in_flight() -> None:
    stack = Stack()
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "slow", SLOW)
    run_id = str(uuid.uuid4())
    await stack.send(envelope.RUN_REQUESTED, run_id, scenario.id)
    await stack.orchestrator.run_once()  # started: the sleep task is on tasks.module
    assert await stack.status(run_id) == "running"

    await stack.send(envelope.RUN_CANCEL, run_id, scenario.id)
    await stack.orchestrator.run_once()
    assert await stack.status(run_id) == "cancelled"

    assert await stack.executor.run_once() == 1  # the sleep finishes and reports
    for _ in range(3):
        await stack.orchestrator.run_once()
    record = await stack.runs.get(stack.org, uuid.UUID(run_id))
    assert record is not None and record.status == "cancelled"
    assert await stack.executor.run_once() == 0  # module 3 was never dispatched

    events = await stack.events()
    assert [e.type for e in events] == [
        RunEventType.RUN_EVENT_TYPE_STARTED,
        RunEventType.RUN_EVENT_TYPE_CANCELLED,
    ]
    assert events[-1].status == RunStatus.RUN_STATUS_CANCELLED


async def test_cancelling_a_queued_run_means_it_never_starts() -> None:
    stack = Stack()
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "slow", SLOW)
    run_id = uuid.uuid4()
    # As RunService.StartRun does: the row first, then the request, here overtaken by a cancel.
    await stack.runs.create_run(
        stack.org, scenario.id, 1, run_id, idempotency_key=None, trigger={}, source="api"
    )
    await stack.send(envelope.RUN_CANCEL, str(run_id), scenario.id)
    await stack.orchestrator.run_once()
    assert await stack.status(str(run_id)) == "cancelled"
    await stack.send(envelope.RUN_REQUESTED, str(run_id), scenario.id)
    await stack.orchestrator.run_once()
    assert await stack.status(str(run_id)) == "cancelled"
    assert await stack.executor.run_once() == 0


async def test_cancelling_a_finished_or_unknown_run_changes_nothing() -> None:
    stack = Stack()
    await stack.start()
    quick = dict(SLOW, flow=[SLOW["flow"][0], SLOW["flow"][2]])
    scenario = await stack.scenarios.create(stack.org, "quick", quick)
    run_id = str(uuid.uuid4())
    await stack.send(envelope.RUN_REQUESTED, run_id, scenario.id)
    for _ in range(10):
        await stack.orchestrator.run_once()
        await stack.executor.run_once()
    assert await stack.status(run_id) == "success"
    await stack.send(envelope.RUN_CANCEL, run_id, scenario.id)
    await stack.send(envelope.RUN_CANCEL, str(uuid.uuid4()), scenario.id)
    await stack.orchestrator.run_once()
    assert await stack.status(run_id) == "success"
