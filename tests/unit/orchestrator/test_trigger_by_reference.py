"""A claim-checked trigger stays in the claim store: the run row keeps its reference (never a
second copy of the body), a retry of an incomplete execution passes the reference on and
resumes without reading it (so an expired claim does not stop it), and a run that has to read
an expired or missing claim is dead-lettered with that reason."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_bus import topics
from scenarist_bus.dlq import H_REASON
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.api.runs import RunServicer
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_orchestrator.retrying import run_request
from scenarist_runtime import auth
from scenarist_runtime.claim_check import ClaimChecks, from_message
from scenarist_storage.memory.claims import MemoryClaimStore
from scenarist_storage.memory.incomplete import MemoryIncompleteStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from scenarist_storage.models import Principal, Role
from support.run_requests import send_run_request

THRESHOLD = 2048
# Module 3 fails on the first run (the execution variable is set); a retry resumes at module 3
# from its parked bundle, the variable unset, and reads the trigger's field from that bundle.
PARKING: dict[str, Any] = {
    "name": "parking",
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
            "mapper": {"json": '{{if(phase = "first"; "oops"; 1.doc)}}'},
        },
    ],
}
TRIGGER = {"doc": '{"n": 7}', "pad": "x" * (2 * THRESHOLD)}


class Context:
    async def abort(self, code: Any, details: str, *_: Any) -> None:
        raise AssertionError(f"{code}: {details}")


class Stack:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        self.store = MemoryClaimStore()
        self.claims = ClaimChecks(self.store, threshold=THRESHOLD)
        self.processor = RunProcessor(self.runs, PlanCache(self.scenarios), claims=self.claims)
        self.orchestrator = OrchestratorLoop(self.bus, self.runs, self.processor, poll_ms=1)
        self.executor = ExecutorLoop(self.bus, TaskWorker(claims=self.claims), poll_ms=1)
        self.org = uuid.uuid4()

    async def start(self) -> RunServicer:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        await self.executor.start()
        producer = await self.bus.producer()
        auth._PRINCIPAL.set(Principal(self.org, Role.EDITOR, uuid.uuid4()))
        return RunServicer(self.scenarios, self.runs, producer, incomplete=MemoryIncompleteStore())

    async def request(self, scenario_id: uuid.UUID, trigger: dict[str, Any]) -> RunRequested:
        check = await self.claims.offload(orjson.dumps(trigger))
        assert check is not None
        request = RunRequested(
            run_id=str(uuid.uuid4()),
            organization_id=str(self.org),
            scenario_id=str(scenario_id),
            source=TRIGGER_SOURCE_WEBHOOK,
        )
        request.trigger_claim_check.CopyFrom(check)
        await send_run_request(self.bus, request)
        return request

    async def settle(self, run_id: str) -> str:
        for _ in range(20):
            await self.orchestrator.run_once()
            await self.executor.run_once()
            record = await self.runs.get(self.org, uuid.UUID(run_id))
            if record is not None and record.status not in {"queued", "running"}:
                return record.status
        raise AssertionError("the run did not finish")


async def _dead_letters(bus: LocalBus) -> list[str]:
    consumer = bus.consumer(f"test-{uuid.uuid4()}", (topics.DLQ,))
    await consumer.start()
    records = await consumer.getmany(100, 10_000)
    return [dict(r.headers)[H_REASON].decode() for r in records]


async def test_the_run_keeps_the_reference_and_a_retry_resumes_without_the_body() -> None:
    stack = Stack()
    servicer = await stack.start()
    scenario = await stack.scenarios.create(stack.org, "parking", PARKING)
    request = await stack.request(scenario.id, TRIGGER)
    assert await stack.settle(request.run_id) == "warning"
    record = await stack.runs.get(stack.org, uuid.UUID(request.run_id))
    assert record is not None and record.trigger == {}
    assert record.trigger_claim == from_message(request.trigger_claim_check)

    republished = run_request(record)  # what a lost request is published again as
    assert republished.trigger_claim_check == request.trigger_claim_check
    assert not republished.trigger

    await stack.store.delete([request.trigger_claim_check.ref])  # expired since
    listed = await servicer.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=str(scenario.id)), Context()
    )
    [parked] = listed.incomplete_executions
    retried = await servicer.RetryIncompleteExecution(
        pb.RetryIncompleteExecutionRequest(incomplete_execution_id=parked.id), Context()
    )
    assert await stack.settle(retried.run.id) == "success"
    retry = await stack.runs.get(stack.org, uuid.UUID(retried.run.id))
    assert retry is not None and retry.trigger_claim == record.trigger_claim
    assert retry.trigger == {} and retry.operations == 1  # module 3 alone: it resumed there


async def test_a_run_whose_trigger_claim_expired_is_dead_lettered_with_the_reason() -> None:
    stack = Stack()
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "parking", PARKING)
    request = await stack.request(scenario.id, TRIGGER)
    await stack.store.delete([request.trigger_claim_check.ref])
    await stack.orchestrator.run_once()
    assert await stack.runs.get(stack.org, uuid.UUID(request.run_id)) is None
    [reason] = await _dead_letters(stack.bus)
    assert "expired or is missing from the claim store" in reason
