"""The log service end to end: envelopes on the bus in, LogService over real gRPC out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import orjson
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from log_stack import LogStack
from scenarist.common.v1.error_pb2 import Error
from scenarist.log.v1 import log_service_pb2 as pb
from scenarist.log.v1 import log_service_pb2_grpc as pb_grpc
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, StepLog
from scenarist.run.v1.run_pb2 import RunStatus
from scenarist_bus import dlq, envelope, topics
from scenarist_bus.port import OutgoingMessage, Record
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

# Recent, so the retention sweep (30 days) of the hosted service never races the tests.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
Metadata = tuple[tuple[str, str], ...]


def _ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class Run:
    def __init__(self, org: uuid.UUID, scenario: uuid.UUID) -> None:
        self.org, self.scenario, self.id = str(org), str(scenario), str(uuid.uuid4())

    def step(self, module_id: int, at: int, *, error: bool = False) -> OutgoingMessage:
        step = StepLog(
            run_id=self.id,
            organization_id=self.org,
            scenario_id=self.scenario,
            module_id=module_id,
            task_id=f"{module_id}/0",
            attempt=1,
            cycle=1,
            module="util:ComposeTransformer",
            input=orjson.dumps({"n": module_id}).decode(),
            output=orjson.dumps([{"value": module_id}]).decode(),
            started_at=_ts(T0 + timedelta(seconds=at)),
            finished_at=_ts(T0 + timedelta(seconds=at, milliseconds=5)),
        )
        if error:
            step.error.CopyFrom(Error(type="DataError", message="bad"))
        return self._wrap(topics.LOGS_STEPS, step, envelope.STEP_LOGGED)

    def event(
        self, kind: RunEventType.ValueType, status: RunStatus.ValueType, at: int
    ) -> OutgoingMessage:
        event = RunEvent(
            run_id=self.id,
            organization_id=self.org,
            scenario_id=self.scenario,
            type=kind,
            status=status,
            operations=at,
            occurred_at=_ts(T0 + timedelta(seconds=at)),
            scenario_version=3,
        )
        return self._wrap(topics.RUNS_EVENTS, event, envelope.RUN_EVENT)

    def _wrap(self, topic: str, payload: StepLog | RunEvent, kind: str) -> OutgoingMessage:
        return envelope.wrap(
            topic, payload, event_type=kind, run_id=self.id, organization_id=self.org, source="test"
        )


async def _publish(stack: LogStack, *messages: OutgoingMessage) -> None:
    producer = await stack.bus.producer()
    await producer.send_batch(list(messages))


async def _until(probe: Callable[[], Awaitable[Any]], done: Callable[[Any], bool]) -> Any:
    """Poll `probe` until `done` (bounded: the consumer loops run every few hundred ms)."""
    for _ in range(200):
        value = await probe()
        if done(value):
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached; last value: {value!r}")


def _stub(stack: LogStack) -> pb_grpc.LogServiceAsyncStub:
    return pb_grpc.LogServiceStub(stack.channel)


async def _steps(stack: LogStack, md: Metadata, run_id: str, size: int = 0) -> list[StepLog]:
    out: list[StepLog] = []
    token = ""
    while True:
        page = await _stub(stack).GetRunLog(
            pb.GetRunLogRequest(run_id=run_id, page_size=size, page_token=token), metadata=md
        )
        out += page.steps
        token = page.next_page_token
        if not token:
            return out


async def _code(call: Any) -> grpc.StatusCode:  # grpc-stubs type aio calls as sync ones
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


async def _stored_run(stack: LogStack) -> tuple[Run, Metadata]:
    org = (await stack.identity.create_organization("Acme")).id
    owner = await stack.token(org, Role.OWNER)
    run = Run(org, uuid.uuid4())
    await _publish(
        stack,
        run.event(RunEventType.RUN_EVENT_TYPE_STARTED, RunStatus.RUN_STATUS_RUNNING, 0),
        run.step(2, 2),
        run.step(1, 1),
        run.step(3, 3, error=True),
        run.event(RunEventType.RUN_EVENT_TYPE_FINISHED, RunStatus.RUN_STATUS_SUCCESS, 4),
    )

    async def probe() -> list[StepLog]:
        try:
            return await _steps(stack, owner, run.id)
        except grpc.aio.AioRpcError as error:  # NOT_FOUND until the first record is stored
            assert error.code() == grpc.StatusCode.NOT_FOUND
            return []

    await _until(probe, lambda steps: len(steps) == 3)
    return run, owner


async def test_steps_and_summaries_flow_from_the_bus_to_the_api(stack: LogStack) -> None:
    run, owner = await _stored_run(stack)
    steps = await _steps(stack, owner, run.id, size=2)
    assert [s.module_id for s in steps] == [1, 2, 3]
    assert orjson.loads(steps[0].input) == {"n": 1}
    assert steps[2].error.type == "DataError" and steps[0].module == "util:ComposeTransformer"
    listed = await _until(
        lambda: _stub(stack).ListRunLogs(
            pb.ListRunLogsRequest(scenario_id=run.scenario), metadata=owner
        ),
        lambda page: bool(page.runs) and page.runs[0].status == RunStatus.RUN_STATUS_SUCCESS,
    )
    summary = listed.runs[0]
    assert summary.run_id == run.id and summary.scenario_version == 3 and summary.operations == 4
    assert summary.started_at.ToDatetime(tzinfo=UTC) == T0
    assert summary.finished_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(seconds=4)


async def test_redelivered_steps_are_stored_once(stack: LogStack) -> None:
    run, owner = await _stored_run(stack)
    await _publish(stack, run.step(1, 1), run.step(4, 5))
    steps = await _until(lambda: _steps(stack, owner, run.id), lambda s: len(s) == 4)
    assert [s.module_id for s in steps] == [1, 2, 3, 4]


async def test_a_poison_record_goes_to_the_dlq_and_the_loop_goes_on(stack: LogStack) -> None:
    dead = stack.bus.consumer("test-dlq", (topics.DLQ,))
    await dead.start()
    producer = await stack.bus.producer()
    await producer.send(OutgoingMessage(topics.LOGS_STEPS, b"\xffnot an envelope", key=b"x"))
    run, owner = await _stored_run(stack)  # consumed after the poison record
    records: list[Record] = []

    async def fetch() -> list[Record]:
        records.extend(await dead.getmany(100, 100))
        return records

    await _until(fetch, bool)
    assert records[0].value == b"\xffnot an envelope"
    assert records[0].header(dlq.H_ORIGINAL_TOPIC) == topics.LOGS_STEPS.encode()
    assert len(await _steps(stack, owner, run.id)) == 3
    await dead.stop()


async def test_other_organizations_get_not_found_or_nothing(stack: LogStack) -> None:
    run, owner = await _stored_run(stack)
    other = (await stack.identity.create_organization("Globex")).id
    stranger = await stack.token(other, Role.OWNER)
    stub = _stub(stack)
    assert (
        await _code(stub.GetRunLog(pb.GetRunLogRequest(run_id=run.id), metadata=stranger))
        == grpc.StatusCode.NOT_FOUND
    )
    listed = await stub.ListRunLogs(
        pb.ListRunLogsRequest(scenario_id=run.scenario), metadata=stranger
    )
    assert list(listed.runs) == []
    deleted = await stub.DeleteRunLogs(
        pb.DeleteRunLogsRequest(finished_before=_ts(datetime.now(UTC))), metadata=stranger
    )
    assert (deleted.deleted_runs, deleted.deleted_steps) == (0, 0)
    assert len(await _steps(stack, owner, run.id)) == 3


async def test_delete_needs_the_owner_and_removes_finished_runs(stack: LogStack) -> None:
    run, owner = await _stored_run(stack)
    await _until(
        lambda: _stub(stack).ListRunLogs(pb.ListRunLogsRequest(), metadata=owner),
        lambda page: any(r.finished_at.seconds for r in page.runs),
    )
    org = uuid.UUID(run.org)
    stub = _stub(stack)
    request = pb.DeleteRunLogsRequest(finished_before=_ts(datetime.now(UTC)))
    for role in (Role.VIEWER, Role.EDITOR):
        md = await stack.token(org, role)
        assert await _code(stub.DeleteRunLogs(request, metadata=md)) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    assert await _code(stub.DeleteRunLogs(pb.DeleteRunLogsRequest(), metadata=owner)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    deleted = await stub.DeleteRunLogs(request, metadata=owner)
    assert (deleted.deleted_runs, deleted.deleted_steps) == (1, 3)
    assert await _code(stub.GetRunLog(pb.GetRunLogRequest(run_id=run.id), metadata=owner)) == (
        grpc.StatusCode.NOT_FOUND
    )


async def test_bad_requests_are_invalid_argument(stack: LogStack) -> None:
    org = (await stack.identity.create_organization("Acme")).id
    md = await stack.token(org, Role.VIEWER)
    stub = _stub(stack)
    for call in (
        stub.GetRunLog(pb.GetRunLogRequest(run_id="nope"), metadata=md),
        stub.ListRunLogs(pb.ListRunLogsRequest(page_token="garbage"), metadata=md),
        stub.ListRunLogs(pb.ListRunLogsRequest(scenario_id="x"), metadata=md),
        stub.ListRunLogs(pb.ListRunLogsRequest(page_size=-1), metadata=md),
    ):
        assert await _code(call) == grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(stub.ListRunLogs(pb.ListRunLogsRequest())) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
