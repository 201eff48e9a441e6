"""Incomplete executions through RunService: a run parks a failed bundle (store_incomplete), the
list shows it with its error and bundle, a retry starts a run that resumes at the parked module
(the state machine decides what runs), and resolving/retrying are first-wins and idempotent
(in-process bus and stores, stepped by hand; the servicer is called directly)."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import orjson
import pytest
from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_orchestrator.api.runs import RunServicer
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_runtime import auth
from scenarist_storage.memory.incomplete import MemoryIncompleteStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from scenarist_storage.models import Principal, Role

# Module 3 fails while the execution variable "phase" is "first"; a resumed run starts at module
# 3 without running module 2 again, so the variable is unset and the bundle parses.
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
        {"id": 4, "module": "util:ComposeTransformer", "mapper": {"value": "n={{3.n}}"}},
    ],
}
Status = run_pb2.IncompleteExecutionStatus


class AbortedError(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code


class Context:
    async def abort(self, code: grpc.StatusCode, details: str, *_: Any) -> None:
        raise AbortedError(code, details)

    async def abort_with_status(self, status: Any) -> None:
        raise AbortedError(status.code, status.details)


class Stack:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.scenarios = MemoryScenarioStore()
        self.runs = MemoryRunStore()
        processor = RunProcessor(self.runs, PlanCache(self.scenarios))
        self.orchestrator = OrchestratorLoop(self.bus, self.runs, processor, poll_ms=1)
        self.executor = ExecutorLoop(self.bus, TaskWorker(), poll_ms=1)
        self.org = uuid.uuid4()
        self.context: Any = Context()

    async def start(self) -> RunServicer:
        await self.bus.create_topics(topics.ALL_TOPICS)
        await self.orchestrator.start()
        await self.executor.start()
        producer = await self.bus.producer()
        auth._PRINCIPAL.set(Principal(self.org, Role.EDITOR, uuid.uuid4()))
        return RunServicer(self.scenarios, self.runs, producer, incomplete=MemoryIncompleteStore())

    async def request(self, scenario_id: uuid.UUID, trigger: dict[str, Any]) -> str:
        run_id = str(uuid.uuid4())
        payload = RunRequested(
            run_id=run_id,
            organization_id=str(self.org),
            scenario_id=str(scenario_id),
            trigger=orjson.dumps(trigger).decode(),
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

    async def settle(self, run_id: str) -> str:
        for _ in range(20):
            await self.orchestrator.run_once()
            await self.executor.run_once()
            record = await self.runs.get(self.org, uuid.UUID(run_id))
            if record is not None and record.status not in {"queued", "running"}:
                return record.status
        raise AssertionError("the run did not finish")


async def _parked(
    stack: Stack, servicer: RunServicer
) -> tuple[uuid.UUID, str, pb.ListIncompleteExecutionsResponse]:
    scenario = await stack.scenarios.create(stack.org, "parking", PARKING)
    run_id = await stack.request(scenario.id, {"doc": '{"n": 7}'})
    assert await stack.settle(run_id) == "warning"
    listed = await servicer.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=str(scenario.id)), stack.context
    )
    return scenario.id, run_id, listed


async def test_a_parked_bundle_is_listed_with_its_error_and_bundle() -> None:
    stack = Stack()
    servicer = await stack.start()
    _, run_id, listed = await _parked(stack, servicer)
    [item] = listed.incomplete_executions
    assert item.run_id == run_id and item.id.startswith(run_id + "/")
    assert item.module_id == 3 and item.module == "json:ParseJSON"
    assert item.error.type == "DataError" and item.status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert orjson.loads(item.bundle) == {"1": {"doc": '{"n": 7}'}, "2": {"phase": "first"}}


async def test_retry_resumes_at_the_parked_module_once() -> None:
    stack = Stack()
    servicer = await stack.start()
    scenario_id, _, listed = await _parked(stack, servicer)
    parked = listed.incomplete_executions[0]
    request = pb.RetryIncompleteExecutionRequest(incomplete_execution_id=parked.id)
    retried = await servicer.RetryIncompleteExecution(request, stack.context)
    again = await servicer.RetryIncompleteExecution(request, stack.context)
    assert retried.run.id == again.run.id == retried.incomplete_execution.retry_run_id
    assert retried.incomplete_execution.status == Status.INCOMPLETE_EXECUTION_STATUS_RETRIED
    assert await stack.settle(retried.run.id) == "success"
    record = await stack.runs.get(stack.org, uuid.UUID(retried.run.id))
    assert record is not None
    assert record.operations == 2  # modules 3 and 4 only: it resumed, the trigger did not rerun
    assert record.source == "manual"
    open_now = await servicer.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=str(scenario_id)), stack.context
    )
    assert not open_now.incomplete_executions
    with pytest.raises(AbortedError) as refused:
        await servicer.ResolveIncompleteExecution(
            pb.ResolveIncompleteExecutionRequest(incomplete_execution_id=parked.id), stack.context
        )
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION


async def test_resolve_closes_it_without_a_run() -> None:
    stack = Stack()
    servicer = await stack.start()
    scenario_id, _, listed = await _parked(stack, servicer)
    parked = listed.incomplete_executions[0]
    resolve = pb.ResolveIncompleteExecutionRequest(incomplete_execution_id=parked.id)
    resolved = await servicer.ResolveIncompleteExecution(resolve, stack.context)
    assert resolved.incomplete_execution.status == Status.INCOMPLETE_EXECUTION_STATUS_RESOLVED
    await servicer.ResolveIncompleteExecution(resolve, stack.context)  # idempotent
    with pytest.raises(AbortedError) as refused:
        await servicer.RetryIncompleteExecution(
            pb.RetryIncompleteExecutionRequest(incomplete_execution_id=parked.id), stack.context
        )
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    everything = await servicer.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=str(scenario_id), include_closed=True),
        stack.context,
    )
    assert [i.status for i in everything.incomplete_executions] == [
        Status.INCOMPLETE_EXECUTION_STATUS_RESOLVED
    ]
    assert await stack.executor.run_once() == 0


async def test_confidential_scenarios_withhold_the_bundle_and_viewers_cannot_retry() -> None:
    stack = Stack()
    servicer = await stack.start()
    secret = dict(PARKING, settings={"store_incomplete": True, "confidential": True})
    scenario = await stack.scenarios.create(stack.org, "secret", secret)
    run_id = await stack.request(scenario.id, {"doc": '{"n": 7}'})
    assert await stack.settle(run_id) == "warning"
    listed = await servicer.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=str(scenario.id)), stack.context
    )
    [item] = listed.incomplete_executions
    assert item.confidential and not item.bundle
    auth._PRINCIPAL.set(Principal(stack.org, Role.VIEWER, uuid.uuid4()))
    with pytest.raises(AbortedError) as refused:
        await servicer.RetryIncompleteExecution(
            pb.RetryIncompleteExecutionRequest(incomplete_execution_id=item.id), stack.context
        )
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    auth._PRINCIPAL.set(Principal(uuid.uuid4(), Role.EDITOR, uuid.uuid4()))
    with pytest.raises(AbortedError) as hidden:
        await servicer.ResolveIncompleteExecution(
            pb.ResolveIncompleteExecutionRequest(incomplete_execution_id=item.id), stack.context
        )
    assert hidden.value.code == grpc.StatusCode.NOT_FOUND
