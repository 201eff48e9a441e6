"""Automatic completion on the in-process bus and stores, stepped by hand with a fake clock: a
Break with automatic completion schedules attempt k at first parking + interval × k, a retry
that parks the bundle again continues the plan with attempt + 1 until the count is used up, and
then the bundle stays incomplete for a person; a retry that succeeds marks it completed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.api.runs import RunServicer
from scenarist_orchestrator.completion import AutomaticCompletion, next_due
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_orchestrator.retrying import IncompleteRetry, publish_run_request
from scenarist_runtime import auth
from scenarist_storage.completion_models import RETRY_COMPLETED, RETRY_MANUAL, RETRY_RETRIED
from scenarist_storage.memory.completion import MemoryIncompleteRetryStore
from scenarist_storage.memory.incomplete import MemoryIncompleteStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from scenarist_storage.models import Principal, Role

Status = run_pb2.IncompleteExecutionStatus
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _scenario(json_template: str) -> dict[str, Any]:
    """Module 3 parses `json_template`; a Break with automatic completion (2 attempts, 1 min)."""
    return {
        "name": "breaking",
        "settings": {"store_incomplete": True},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {
                "id": 2,
                "module": "util:SetVariable2",
                "mapper": {"name": "phase", "value": "first", "scope": "execution"},
            },
            {
                "id": 3,
                "module": "json:ParseJSON",
                "mapper": {"json": json_template},
                "onerror": [
                    {
                        "id": 4,
                        "module": "builtin:Break",
                        "mapper": {"retry": True, "count": 2, "interval": 1},
                    }
                ],
            },
        ],
    }


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Stack:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        self.closures = MemoryIncompleteStore()
        self.schedules = MemoryIncompleteRetryStore(self.runs)
        processor = RunProcessor(self.runs, PlanCache(self.scenarios))
        self.orchestrator = OrchestratorLoop(self.bus, self.runs, processor, poll_ms=1)
        self.executor = ExecutorLoop(self.bus, TaskWorker(), poll_ms=1)
        self.org = uuid.uuid4()
        self.clock = FakeClock(datetime.now(UTC))

    async def start(self) -> tuple[RunServicer, AutomaticCompletion]:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        await self.executor.start()
        producer = await self.bus.producer()
        auth._PRINCIPAL.set(Principal(self.org, Role.EDITOR, uuid.uuid4()))
        servicer = RunServicer(
            self.scenarios, self.runs, producer, incomplete=self.closures, schedules=self.schedules
        )

        async def request(record: Any, ref: Any) -> None:
            await publish_run_request(producer, record, ref, source="test")

        retry = IncompleteRetry(self.runs, self.closures, request, self.schedules)
        completion = AutomaticCompletion(
            self.scenarios, self.runs, self.schedules, retry, clock=self.clock
        )
        return servicer, completion

    async def request(self, scenario_id: uuid.UUID) -> str:
        run_id = str(uuid.uuid4())
        payload = RunRequested(
            run_id=run_id,
            organization_id=str(self.org),
            scenario_id=str(scenario_id),
            trigger=orjson.dumps({"doc": '{"n": 7}'}).decode(),
            source=TRIGGER_SOURCE_WEBHOOK,
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

    async def settle(self) -> None:
        """Step the run path until no run is queued or running."""
        for _ in range(30):
            await self.orchestrator.run_once()
            await self.executor.run_once()
            page = await self.runs.list(self.org, status=["queued", "running"], page_size=10)
            if not page.items:
                return
        raise AssertionError("runs did not finish")

    async def listed(self, servicer: RunServicer, scenario_id: uuid.UUID) -> list[Any]:
        request = pb.ListIncompleteExecutionsRequest(
            scenario_id=str(scenario_id), include_closed=True
        )
        response = await servicer.ListIncompleteExecutions(request, None)  # type: ignore[arg-type]
        return sorted(response.incomplete_executions, key=lambda i: i.retry_attempt)


def test_attempt_k_is_due_interval_times_k_after_the_first_parking() -> None:
    assert next_due(T0, (1.0, 1.0, 1.0), 0) == T0 + timedelta(minutes=1)
    assert next_due(T0, (1.0, 1.0, 1.0), 2) == T0 + timedelta(minutes=3)
    assert next_due(T0, (1.0, 1.0, 1.0), 3) is None
    assert next_due(T0, (), 0) is None


async def test_retries_until_the_count_is_used_up_then_waits_for_a_person() -> None:
    stack = Stack()
    servicer, completion = await stack.start()
    scenario = await stack.scenarios.create(stack.org, "breaking", _scenario("oops"))
    await stack.request(scenario.id)
    await stack.settle()
    assert await completion.run_once() == 0  # discovered; due a minute after parking
    [first] = await stack.listed(servicer, scenario.id)
    assert first.status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert (first.retry_attempt, first.retry_count) == (0, 2)
    parked_at = first.created_at.ToDatetime(UTC)
    due = first.next_retry_at.ToDatetime(UTC)
    assert abs(due - (parked_at + timedelta(minutes=1))) < timedelta(milliseconds=1)

    for attempt in (1, 2):
        stack.clock.now = due + timedelta(minutes=attempt - 1)
        assert await completion.run_once() == 1
        await stack.settle()
        await completion.run_once()  # discovers the bundle parked again, follows the retry up
        items = await stack.listed(servicer, scenario.id)
        assert [i.retry_attempt for i in items] == list(range(attempt + 1))
        assert items[-2].status == Status.INCOMPLETE_EXECUTION_STATUS_RETRIED
        schedule = (await stack.schedules.get_many(stack.org, [items[-2].id]))[items[-2].id]
        assert schedule.state == RETRY_RETRIED

    last = items[-1]
    assert last.status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert last.retry_attempt == 2 and not last.HasField("next_retry_at")
    assert (await stack.schedules.get_many(stack.org, [last.id]))[last.id].state == RETRY_MANUAL
    stack.clock.now = parked_at + timedelta(days=30)
    assert await completion.run_once() == 0


async def test_a_retry_that_succeeds_marks_the_incomplete_execution_completed() -> None:
    stack = Stack()
    servicer, completion = await stack.start()
    # The resumed run starts at module 3, so "phase" is unset and the bundle parses.
    document = _scenario('{{if(phase = "first"; "oops"; 1.doc)}}')
    scenario = await stack.scenarios.create(stack.org, "breaking", document)
    await stack.request(scenario.id)
    await stack.settle()
    await completion.run_once()
    [parked] = await stack.listed(servicer, scenario.id)
    stack.clock.now = parked.next_retry_at.ToDatetime(UTC)
    assert await completion.run_once() == 1
    await stack.settle()
    await completion.run_once()
    [done] = await stack.listed(servicer, scenario.id)
    assert done.status == Status.INCOMPLETE_EXECUTION_STATUS_COMPLETED
    retry_run = await stack.runs.get(stack.org, uuid.UUID(done.retry_run_id))
    assert retry_run is not None and retry_run.status == "success"
    assert (await stack.schedules.get_many(stack.org, [done.id]))[done.id].state == RETRY_COMPLETED
