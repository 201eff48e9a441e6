"""Runs of an inactive scenario wait in its queue (Make semantics): webhook and polling runs are
parked and answered QUEUED, a full queue refuses with QueueFullError, scheduled runs are dropped,
manual runs run anyway, and activation releases the queue oldest first (in-process bus and
stores, stepped by hand)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, RunRequested
from scenarist.run.v1.run_pb2 import (
    TRIGGER_SOURCE_MANUAL,
    TRIGGER_SOURCE_POLL,
    TRIGGER_SOURCE_SCHEDULE,
    TRIGGER_SOURCE_WEBHOOK,
)
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.parking import Parking, release_parked
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage.memory.parked import MemoryParkedRunStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore

ECHO: dict[str, Any] = {
    "name": "echo",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.n}}"}},
    ],
}


class Stack:
    def __init__(self, limit: int = 2) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        self.parked = MemoryParkedRunStore()
        processor = RunProcessor(
            self.runs, PlanCache(self.scenarios), parking=Parking(self.parked, limit)
        )
        self.orchestrator = OrchestratorLoop(self.bus, self.runs, processor, poll_ms=1)
        self.executor = ExecutorLoop(self.bus, TaskWorker(), poll_ms=1)
        self.org = uuid.uuid4()
        self.events_seen: list[RunEvent] = []

    def use_runs(self, runs: MemoryRunStore) -> None:
        """Another run store (a test double) for the stack's orchestrator, before start()."""
        self.runs = runs
        self.orchestrator._runs = runs
        self.orchestrator._processor._runs = runs
        self.orchestrator._processor._planner._runs = runs

    async def start(self) -> None:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        await self.executor.start()
        self.events = self.bus.consumer("test-events", (topics.RUNS_EVENTS,))
        await self.events.start()

    async def request(self, scenario_id: uuid.UUID, n: int, source: int) -> str:
        run_id = str(uuid.uuid4())
        payload = RunRequested(
            run_id=run_id,
            organization_id=str(self.org),
            scenario_id=str(scenario_id),
            trigger=orjson.dumps({"n": n}).decode(),
            source=source,  # type: ignore[arg-type]
            reply_to=f"caller-{n}",
        )
        producer = await self.bus.producer()
        await producer.send(
            envelope.wrap(
                topics.RUNS_REQUESTED,
                payload,
                event_type=envelope.RUN_REQUESTED,
                run_id=run_id,
                organization_id=str(self.org),
                source="test",
            )
        )
        return run_id

    async def steps(self, count: int = 10) -> None:
        for _ in range(count):
            await self.orchestrator.run_once()
            await self.executor.run_once()

    async def status(self, run_id: str) -> str | None:
        record = await self.runs.get(self.org, uuid.UUID(run_id))
        return None if record is None else record.status

    async def new_events(self) -> list[RunEvent]:
        records = await self.events.getmany(100, 10_000)
        return [envelope.payload_as(envelope.unwrap(r), RunEvent) for r in records]


async def test_inactive_scenario_queues_then_runs_in_order_on_activation() -> None:
    stack = Stack(limit=2)
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "echo", ECHO)
    # One at a time: requests on different partitions have no order among themselves.
    hooked = []
    for n in (1, 2):
        hooked.append(await stack.request(scenario.id, n, TRIGGER_SOURCE_WEBHOOK))
        await stack.steps(2)
    refused = await stack.request(scenario.id, 3, TRIGGER_SOURCE_POLL)
    scheduled = await stack.request(scenario.id, 4, TRIGGER_SOURCE_SCHEDULE)
    manual = await stack.request(scenario.id, 5, TRIGGER_SOURCE_MANUAL)
    await stack.steps()

    assert [await stack.status(r) for r in hooked] == ["queued", "queued"]
    assert await stack.status(refused) == "cancelled"
    assert await stack.status(scheduled) is None  # an inactive scenario's schedule does not run
    assert await stack.status(manual) == "success"  # Run once works while inactive
    events = {(e.run_id, e.type): e for e in await stack.new_events()}
    for run_id, n in zip(hooked, (1, 2), strict=True):
        queued = events[(run_id, RunEventType.RUN_EVENT_TYPE_QUEUED)]
        assert queued.reply_to == f"caller-{n}"  # the waiting webhook caller is answered
    full = events[(refused, RunEventType.RUN_EVENT_TYPE_CANCELLED)]
    assert full.error.type == "QueueFullError" and full.reply_to == "caller-3"

    assert [p.run_id for p in await stack.parked.parked(stack.org, scenario.id)] == [
        uuid.UUID(r) for r in hooked
    ]  # released oldest first (their runs then start in parallel, one per partition owner)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    producer = await stack.bus.producer()
    assert await release_parked(stack.parked, producer, stack.org, scenario.id) == 2
    await stack.steps()
    assert [await stack.status(r) for r in hooked] == ["success", "success"]
    assert await stack.parked.count(stack.org, scenario.id) == 0
    # Each released run started (a run finishing in its first step sends FINISHED alone,
    # carrying when it started).
    started = {
        e.run_id
        for e in await stack.new_events()
        if e.HasField("started_at")
        and e.type in (RunEventType.RUN_EVENT_TYPE_STARTED, RunEventType.RUN_EVENT_TYPE_FINISHED)
    }
    assert started == set(hooked)

    # Active now: requests run at once.
    live = await stack.request(scenario.id, 6, TRIGGER_SOURCE_WEBHOOK)
    await stack.steps()
    assert await stack.status(live) == "success"


async def test_a_parked_run_runs_the_version_it_was_requested_with() -> None:
    stack = Stack()
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "echo", ECHO)
    run_id = await stack.request(scenario.id, 1, TRIGGER_SOURCE_WEBHOOK)
    await stack.steps()
    changed = dict(ECHO, flow=[ECHO["flow"][0]])
    await stack.scenarios.new_version(stack.org, scenario.id, changed)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    await release_parked(stack.parked, await stack.bus.producer(), stack.org, scenario.id)
    await stack.steps()
    record = await stack.runs.get(stack.org, uuid.UUID(run_id))
    assert record is not None and record.status == "success" and record.version == 1


SLEEP: dict[str, Any] = {
    "name": "sleep",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "util:FunctionSleep", "mapper": {"duration": "0"}},
    ],
}


async def test_run_events_carry_the_start_and_an_instant_run_sends_finished_alone() -> None:
    stack = Stack()
    await stack.start()
    instant = await stack.scenarios.create(stack.org, "echo", ECHO)
    tasked = await stack.scenarios.create(stack.org, "sleep", SLEEP)
    for scenario in (instant, tasked):
        await stack.scenarios.set_active(stack.org, scenario.id, True)
    quick = await stack.request(instant.id, 1, TRIGGER_SOURCE_WEBHOOK)
    slow = await stack.request(tasked.id, 2, TRIGGER_SOURCE_WEBHOOK)
    await stack.steps()
    events = await stack.new_events()
    kinds = {run_id: [e.type for e in events if e.run_id == run_id] for run_id in (quick, slow)}
    assert kinds[quick] == [RunEventType.RUN_EVENT_TYPE_FINISHED]
    assert kinds[slow] == [
        RunEventType.RUN_EVENT_TYPE_STARTED,
        RunEventType.RUN_EVENT_TYPE_FINISHED,
    ]
    for event in events:
        assert event.HasField("started_at")
        assert event.started_at.ToNanoseconds() <= event.occurred_at.ToNanoseconds()
