"""The run path on the in-process bus and stores: orchestrator and executors as in production."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunEvent, RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import OutgoingMessage
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from support.run_requests import send_run_request

FAN_OUT: dict[str, Any] = {
    "name": "fan-out with sleeps",
    "settings": {"parallel_bundles": 16},
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
        {"id": 3, "module": "util:FunctionSleep", "mapper": {"duration": 0}},
        {"id": 4, "module": "util:ComposeTransformer", "mapper": {"value": "{{2.value}}"}},
        {
            "id": 5,
            "module": "builtin:BasicAggregator",
            "parameters": {"feeder": 2},
            "mapper": {"v": "{{4.value}}"},
        },
        {
            "id": 6,
            "module": "gateway:WebhookRespond",
            "mapper": {"status": "200", "body": '{{join(map(5.array; "v"); ",")}}'},
        },
    ],
}


class Stack:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        self.orchestrator = OrchestratorLoop(
            self.bus, self.runs, RunProcessor(self.runs, PlanCache(self.scenarios)), poll_ms=1
        )
        self.executors = [ExecutorLoop(self.bus, TaskWorker(), poll_ms=1) for _ in range(2)]
        self.executed = [0, 0]

    async def start(self) -> None:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        for executor in self.executors:
            await executor.start()

    async def step(self) -> None:
        await self.orchestrator.run_once()
        for index, executor in enumerate(self.executors):
            self.executed[index] += await executor.run_once()

    async def request(self, org: uuid.UUID, scenario: uuid.UUID, trigger: Any, **extra: Any) -> str:
        run_id = str(uuid.uuid4())
        request = RunRequested(
            run_id=run_id,
            organization_id=str(org),
            scenario_id=str(scenario),
            trigger=orjson.dumps(trigger).decode(),
            source=1,
            **extra,
        )
        await send_run_request(self.bus, request)
        return run_id


async def _until_finished(stack: Stack, org: uuid.UUID, run_ids: list[str]) -> None:
    for _ in range(500):
        await stack.step()
        records = [await stack.runs.get(org, uuid.UUID(run_id)) for run_id in run_ids]
        if all(r is not None and r.status in ("success", "warning", "error") for r in records):
            return
    raise AssertionError("runs did not finish within 500 steps")


async def test_runs_complete_across_orchestrator_and_two_executors() -> None:
    stack = Stack()
    await stack.start()
    org = uuid.uuid4()
    scenario = await stack.scenarios.create(org, "fan", FAN_OUT)
    run_ids = [await stack.request(org, scenario.id, {"items": list(range(20))}) for _ in range(3)]
    await _until_finished(stack, org, run_ids)
    for run_id in run_ids:
        record = await stack.runs.get(org, uuid.UUID(run_id))
        assert record is not None and record.status == "success"
        assert record.operations == 1 + 1 + 20 + 20 + 1 + 1
    assert all(count > 0 for count in stack.executed), stack.executed
    consumer = stack.bus.consumer("test-events", (topics.RUNS_EVENTS,))
    await consumer.start()
    events = [envelope.unwrap(r).payload for r in await consumer.getmany(100, 10_000)]
    finished = [e for e in events if isinstance(e, RunEvent) and e.type == 3]
    assert len(finished) == 3
    assert orjson.loads(finished[0].result)["body"] == ",".join(str(n) for n in range(20))


async def test_duplicate_requests_with_one_idempotency_key_start_one_run() -> None:
    stack = Stack()
    await stack.start()
    org = uuid.uuid4()
    scenario = await stack.scenarios.create(org, "fan", FAN_OUT)
    first = await stack.request(org, scenario.id, {"items": [1]}, idempotency_key="k1")
    second = await stack.request(org, scenario.id, {"items": [1]}, idempotency_key="k1")
    # The two requests may sit on different partitions: whichever is processed first wins.
    for _ in range(200):
        await stack.step()
        runs = (await stack.runs.list(org)).items
        if runs and runs[0].status == "success":
            break
    assert len(runs) == 1 and runs[0].status == "success"
    assert str(runs[0].id) in (first, second)


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_loop_goes_on() -> None:
    stack = Stack()
    await stack.start()
    producer = await stack.bus.producer()
    await producer.send(OutgoingMessage(topics.RUNS_REQUESTED, b"\xff not protobuf", b"k"))
    org = uuid.uuid4()
    scenario = await stack.scenarios.create(org, "fan", FAN_OUT)
    run_id = await stack.request(org, scenario.id, {"items": [1, 2]})
    await _until_finished(stack, org, [run_id])
    dlq = stack.bus.consumer("test-dlq", (topics.DLQ,))
    await dlq.start()
    dead = await dlq.getmany(100, 100)
    assert len(dead) == 1
    assert dead[0].header("x-original-topic") == topics.RUNS_REQUESTED.encode()
