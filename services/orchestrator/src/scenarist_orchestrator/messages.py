"""Turning machine output into Kafka messages (written to the outbox) and back."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1.events_pb2 import ModuleTask as ModuleTaskMessage
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, StepLog, StepLogBatch
from scenarist.run.v1.run_pb2 import RunStatus as RunStatusMessage
from scenarist_bus import envelope, topics
from scenarist_engine.machine import ModuleTask, Operation, RunState, RunStatus, dump_task
from scenarist_engine.machine.state import ErrorInfo
from scenarist_storage.models import OutboxMessage

SOURCE = "orchestrator"
# Half of Kafka's default 1 MiB record limit: a batch of steps whose bodies are each just under
# the claim-check threshold (256 KiB) still fits with its envelope.
STEP_BATCH_BYTES = 512 * 1024

STATUS = {
    RunStatus.RUNNING: RunStatusMessage.RUN_STATUS_RUNNING,
    RunStatus.SUCCESS: RunStatusMessage.RUN_STATUS_SUCCESS,
    RunStatus.WARNING: RunStatusMessage.RUN_STATUS_WARNING,
    RunStatus.ERROR: RunStatusMessage.RUN_STATUS_ERROR,
}
# Not an engine status: a cancelled run's engine state stays as it was when it was stopped.
CANCELLED_STATUS = RunStatusMessage.RUN_STATUS_CANCELLED


def _timestamp(seconds: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _outbox(
    topic: str,
    payload: Any,
    event_type: str,
    run_id: str,
    org_id: str,
    *,
    spread: bool = False,
) -> OutboxMessage:
    message = envelope.wrap(
        topic,
        payload,
        event_type=event_type,
        run_id=run_id,
        organization_id=org_id,
        source=SOURCE,
        spread=spread,
    )
    return OutboxMessage(
        topic=message.topic,
        key=message.key,
        value=message.value,
        headers=message.headers,
        run_id=uuid.UUID(run_id),
    )


def task_body(task: ModuleTask) -> bytes:
    return orjson.dumps(dump_task(task))


def task_message(
    task: ModuleTask,
    org_id: str,
    scenario_id: str,
    body: bytes | None = None,
    check: ClaimCheck | None = None,
) -> OutboxMessage:
    """`body`: task_body(task) when the caller has it already; `check`: the body went to the
    claim-check store (it was above the threshold) and travels by reference."""
    payload = ModuleTaskMessage(
        run_id=task.run_id,
        task_id=task.task_id,
        module_id=task.module_id,
        attempt=task.attempt,
        idempotency_key=task.idempotency_key,
        organization_id=org_id,
        scenario_id=scenario_id,
    )
    if check is not None:
        payload.claim_check.CopyFrom(check)
    else:
        payload.task = task_body(task) if body is None else body
    if task.not_before > task.now:
        payload.not_before.CopyFrom(_timestamp(task.not_before))
    return _outbox(
        topics.TASKS_MODULE,
        payload,
        envelope.TASK_MODULE,
        task.run_id,
        org_id,
        spread=True,
    )


def _error(error: ErrorInfo | None) -> Error | None:
    return None if error is None else Error(type=error.type, message=error.message)


def step_bodies(operation: Operation) -> tuple[bytes, bytes]:
    """The step's input and output as JSON text (what StepLog carries inline)."""
    return orjson.dumps(operation.inputs), orjson.dumps(operation.output)


def step_log(
    operation: Operation,
    state: RunState,
    org_id: str,
    module_kind: str,
    confidential: bool,
    *,
    bodies: tuple[bytes, bytes] | None = None,
    checks: tuple[ClaimCheck | None, ClaimCheck | None] = (None, None),
) -> StepLog:
    """`bodies`: step_bodies(operation) when the caller has them; `checks`: references to the
    bodies that went to the claim-check store instead (input, output)."""
    payload = StepLog(
        run_id=state.execution.run_id,
        organization_id=org_id,
        scenario_id=state.execution.scenario_id,
        module_id=operation.module_id,
        task_id=operation.task_id,
        attempt=operation.attempt,
        cycle=operation.cycle + 1,
        module=module_kind,
    )
    if not confidential:
        _set_bodies(payload, bodies or step_bodies(operation), checks)
    error = _error(operation.error)
    if error is not None:
        payload.error.CopyFrom(error)
    payload.started_at.CopyFrom(_timestamp(operation.started_at))
    payload.finished_at.CopyFrom(_timestamp(operation.finished_at))
    return payload


def steps_messages(
    steps: list[StepLog], run_id: str, org_id: str, *, batch_bytes: int = STEP_BATCH_BYTES
) -> list[OutboxMessage]:
    """The run's steps as StepLogBatch messages, in order, each under `batch_bytes` unless one
    step alone is larger (then it travels alone, as it did before batches). One message per
    save instead of one per step: each message is an outbox row, a Kafka record and a decode."""
    batches: list[StepLogBatch] = []
    size = batch_bytes  # so the first step opens a batch
    for step in steps:
        step_size = step.ByteSize() + 8  # the field's tag and length
        if size + step_size > batch_bytes:
            batches.append(StepLogBatch())
            size = 0
        batches[-1].steps.append(step)
        size += step_size
    return [
        _outbox(topics.LOGS_STEPS, batch, envelope.STEPS_LOGGED, run_id, org_id)
        for batch in batches
    ]


def _set_bodies(
    payload: StepLog,
    bodies: tuple[bytes, bytes],
    checks: tuple[ClaimCheck | None, ClaimCheck | None],
) -> None:
    if checks[0] is not None:
        payload.input_claim_check.CopyFrom(checks[0])
    else:
        payload.input = bodies[0].decode()
    if checks[1] is not None:
        payload.output_claim_check.CopyFrom(checks[1])
    else:
        payload.output = bodies[1].decode()


def run_event(
    state: RunState,
    org_id: str,
    event_type: RunEventType.ValueType,
    now: float,
    *,
    version: int,
    reply_to: str = "",
    status: RunStatusMessage.ValueType | None = None,
) -> OutboxMessage:
    run_id = state.execution.run_id
    payload = RunEvent(
        run_id=run_id,
        organization_id=org_id,
        scenario_id=state.execution.scenario_id,
        type=event_type,
        status=STATUS[state.status] if status is None else status,
        operations=state.operations,
        reply_to=reply_to,
        scenario_version=version,
    )
    payload.occurred_at.CopyFrom(_timestamp(now))
    if state.execution.started_at:
        payload.started_at.CopyFrom(_timestamp(state.execution.started_at))
    if state.response is not None:
        payload.result = orjson.dumps(state.response).decode()
    error = _error(state.error)
    if error is not None:
        payload.error.CopyFrom(error)
    return _outbox(topics.RUNS_EVENTS, payload, envelope.RUN_EVENT, run_id, org_id)
