"""A stored run as the API shows it: status, operations, timestamps, error and webhook response,
read from the row and from the engine state the orchestrator stored with it."""

from __future__ import annotations

import time
from typing import Any

import orjson
from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1 import run_pb2
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist_runtime.rpc import timestamp
from scenarist_storage.models import RunRecord

Status = run_pb2.RunStatus
Source = run_pb2.TriggerSource

STATUSES: dict[str, Status.ValueType] = {
    "queued": Status.RUN_STATUS_QUEUED,
    "running": Status.RUN_STATUS_RUNNING,
    "success": Status.RUN_STATUS_SUCCESS,
    "warning": Status.RUN_STATUS_WARNING,
    "error": Status.RUN_STATUS_ERROR,
    "cancelled": Status.RUN_STATUS_CANCELLED,
}
STATUS_NAMES = {value: name for name, value in STATUSES.items()}
LIVE = frozenset({"queued", "running"})

SOURCES: dict[str, Source.ValueType] = {
    "webhook": Source.TRIGGER_SOURCE_WEBHOOK,
    "manual": Source.TRIGGER_SOURCE_MANUAL,
    "api": Source.TRIGGER_SOURCE_API,
    "schedule": Source.TRIGGER_SOURCE_SCHEDULE,
    "poll": Source.TRIGGER_SOURCE_POLL,
    "scenario": Source.TRIGGER_SOURCE_SCENARIO,
}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def run_message(record: RunRecord) -> run_pb2.Run:
    state = record.state or {}
    run = run_pb2.Run(
        id=str(record.id),
        scenario_id=str(record.scenario_id),
        scenario_version=record.version,
        organization_id=str(record.org_id),
        status=STATUSES.get(record.status, Status.RUN_STATUS_UNSPECIFIED),
        operations=record.operations,
        trigger_source=SOURCES.get(record.source, Source.TRIGGER_SOURCE_UNSPECIFIED),
    )
    run.created_at.CopyFrom(timestamp(record.created_at))
    execution = state.get("execution")
    started = _number(execution.get("started_at")) if isinstance(execution, dict) else None
    if started is not None:
        run.started_at.CopyFrom(timestamp(started))
    finished = _number(state.get("finished_at"))
    if record.status not in LIVE:
        run.finished_at.CopyFrom(timestamp(finished if finished is not None else record.updated_at))
    error = state.get("error")
    if record.status == "error" and isinstance(error, dict):
        run.error.CopyFrom(
            Error(type=str(error.get("type", "")), message=str(error.get("message", "")))
        )
    if state.get("response") is not None:
        run.response = orjson.dumps(state["response"]).decode()
    return run


def run_event(run: run_pb2.Run, kind: RunEventType.ValueType) -> RunEvent:
    """A RunEvent describing `run` now (StreamRunEvents builds its events from stored runs)."""
    event = RunEvent(
        run_id=run.id,
        organization_id=run.organization_id,
        scenario_id=run.scenario_id,
        type=kind,
        status=run.status,
        operations=run.operations,
        result=run.response,
        scenario_version=run.scenario_version,
    )
    if run.HasField("error"):
        event.error.CopyFrom(run.error)
    event.occurred_at.CopyFrom(
        run.finished_at if run.HasField("finished_at") else timestamp(time.time())
    )
    return event
