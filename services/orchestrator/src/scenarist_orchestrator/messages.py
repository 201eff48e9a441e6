"""Turning machine output into Kafka messages (written to the outbox) and back."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1.events_pb2 import ModuleTask as ModuleTaskMessage
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, StepLog
from scenarist.run.v1.run_pb2 import RunStatus as RunStatusMessage
from scenarist_bus import envelope, topics
from scenarist_engine.machine import ModuleTask, Operation, RunState, RunStatus, dump_task
from scenarist_engine.machine.state import ErrorInfo
from scenarist_storage.models import OutboxMessage

SOURCE = "orchestrator"

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
    topic: str, payload: Any, event_type: str, run_id: str, org_id: str, *, key: str | None = None
) -> OutboxMessage:
    message = envelope.wrap(
        topic,
        payload,
        event_type=event_type,
        run_id=run_id,
        organization_id=org_id,
        source=SOURCE,
        key=key,
    )
    return OutboxMessage(
        topic=message.topic,
        key=message.key,
        value=message.value,
        headers=message.headers,
        run_id=uuid.UUID(run_id),
    )


def task_message(task: ModuleTask, org_id: str, scenario_id: str) -> OutboxMessage:
    payload = ModuleTaskMessage(
        run_id=task.run_id,
        task_id=task.task_id,
        module_id=task.module_id,
        attempt=task.attempt,
        idempotency_key=task.idempotency_key,
        task=orjson.dumps(dump_task(task)),
        organization_id=org_id,
        scenario_id=scenario_id,
    )
    if task.not_before > task.now:
        payload.not_before.CopyFrom(_timestamp(task.not_before))
    return _outbox(
        topics.TASKS_MODULE,
        payload,
        envelope.TASK_MODULE,
        task.run_id,
        org_id,
        key=f"{task.run_id}/{task.task_id}",
    )


def _error(error: ErrorInfo | None) -> Error | None:
    return None if error is None else Error(type=error.type, message=error.message)


def step_message(
    operation: Operation, state: RunState, org_id: str, module_kind: str, confidential: bool
) -> OutboxMessage:
    run_id = state.execution.run_id
    payload = StepLog(
        run_id=run_id,
        organization_id=org_id,
        scenario_id=state.execution.scenario_id,
        module_id=operation.module_id,
        task_id=operation.task_id,
        attempt=operation.attempt,
        cycle=operation.cycle + 1,
        module=module_kind,
    )
    if not confidential:
        payload.input = orjson.dumps(operation.inputs).decode()
        payload.output = orjson.dumps(operation.output).decode()
    error = _error(operation.error)
    if error is not None:
        payload.error.CopyFrom(error)
    payload.started_at.CopyFrom(_timestamp(operation.started_at))
    payload.finished_at.CopyFrom(_timestamp(operation.finished_at))
    return _outbox(topics.LOGS_STEPS, payload, envelope.STEP_LOGGED, run_id, org_id)


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
    if state.response is not None:
        payload.result = orjson.dumps(state.response).decode()
    error = _error(state.error)
    if error is not None:
        payload.error.CopyFrom(error)
    return _outbox(topics.RUNS_EVENTS, payload, envelope.RUN_EVENT, run_id, org_id)
