"""Between the Kafka payloads (StepLog, RunEvent), the stores' records and the LogService messages.

A step is stored as its whole StepLog (proto JSON with field names) in the record's `data`, so
GetRunLog returns exactly what the executor or orchestrator logged, including fields added to
StepLog later, without a migration."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.common.v1.envelope_pb2 import Envelope
from scenarist.common.v1.error_pb2 import Error
from scenarist.log.v1.log_service_pb2 import RunLogSummary
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, StepLog, StepLogBatch
from scenarist.run.v1.run_pb2 import RunStatus
from scenarist_bus import envelope
from scenarist_bus.envelope import DecodeError
from scenarist_bus.port import Record
from scenarist_runtime.rpc import timestamp
from scenarist_storage.models import RunSummary, StepRecord

_STATUS_PREFIX = "RUN_STATUS_"
_FINAL_EVENTS = frozenset(
    {RunEventType.RUN_EVENT_TYPE_FINISHED, RunEventType.RUN_EVENT_TYPE_CANCELLED}
)


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise DecodeError(f"{what} {value!r} is not a UUID") from exc


def _time(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def decode_steps(record: Record) -> list[StepRecord]:
    """A logs.steps record (a StepLogBatch, or one StepLog as orchestrators before batches
    sent it) as the steps to store; DecodeError sends the whole record to the DLQ."""
    decoded = envelope.unwrap(
        record, accept=frozenset({envelope.STEPS_LOGGED, envelope.STEP_LOGGED})
    )
    if decoded.envelope.type == envelope.STEP_LOGGED:
        return [_step(envelope.payload_as(decoded, StepLog), decoded.envelope)]
    steps = envelope.payload_as(decoded, StepLogBatch).steps
    if not steps:
        raise DecodeError("step batch without steps")
    return [_step(step, decoded.envelope) for step in steps]


def _step(step: StepLog, outer: Envelope) -> StepRecord:
    org = step.organization_id or outer.organization_id
    if not step.task_id:
        raise DecodeError("step without task_id")
    if step.HasField("started_at"):
        started = _time(step.started_at)
    elif outer.HasField("occurred_at"):
        started = _time(outer.occurred_at)
    else:
        raise DecodeError("step without started_at")
    return StepRecord(
        org_id=_uuid(org, "organization_id"),
        run_id=_uuid(step.run_id or outer.run_id, "run_id"),
        task_id=step.task_id,
        attempt=step.attempt,
        module_id=str(step.module_id),
        status="error" if step.HasField("error") else "success",
        started_at=started,
        finished_at=_time(step.finished_at) if step.HasField("finished_at") else None,
        data=step_data(step),
    )


# The StepLog fields step_data copies itself; the others (messages) go through json_format.
_SCALAR_FIELDS = (
    "run_id", "organization_id", "scenario_id", "module_id", "task_id", "attempt", "cycle",
    "input", "output", "module",
)  # fmt: skip
_TIME_FIELDS: tuple[Literal["started_at", "finished_at"], ...] = ("started_at", "finished_at")
_MESSAGE_FIELDS: tuple[Literal["error", "input_claim_check", "output_claim_check"], ...] = (
    "error",
    "input_claim_check",
    "output_claim_check",
)


def step_data(step: StepLog) -> dict[str, object]:
    """The proto JSON of `step` (what MessageToDict gives with field names), built directly:
    json_format walks descriptors in Python and was the log service's hottest frame. A field
    added to StepLog later is refused by a unit test until it is listed here."""
    data: dict[str, object] = {}
    for name in _SCALAR_FIELDS:
        value = getattr(step, name)
        if value:
            data[name] = value
    for name in _TIME_FIELDS:
        if step.HasField(name):
            data[name] = getattr(step, name).ToJsonString()
    for name in _MESSAGE_FIELDS:
        if step.HasField(name):
            data[name] = json_format.MessageToDict(
                getattr(step, name), preserving_proto_field_name=True
            )
    return data


def step_message(record: StepRecord) -> StepLog:
    """The stored StepLog; fields this version does not know are dropped, not fatal."""
    return json_format.ParseDict(record.data, StepLog(), ignore_unknown_fields=True)


def decode_run_event(record: Record) -> RunSummary:
    """A runs.events record as the run summary it implies."""
    decoded = envelope.unwrap(record, accept=frozenset({envelope.RUN_EVENT}))
    event = envelope.payload_as(decoded, RunEvent)
    if event.status == RunStatus.RUN_STATUS_UNSPECIFIED:
        raise DecodeError("run event without status")
    occurred = event.occurred_at if event.HasField("occurred_at") else decoded.envelope.occurred_at
    at = _time(occurred)
    # A run that finished in its first step sends FINISHED alone, with when it started.
    started = _time(event.started_at) if event.HasField("started_at") else at
    final = event.type in _FINAL_EVENTS
    return RunSummary(
        org_id=_uuid(event.organization_id or decoded.envelope.organization_id, "organization_id"),
        run_id=_uuid(event.run_id or decoded.envelope.run_id, "run_id"),
        scenario_id=_uuid(event.scenario_id, "scenario_id"),
        status=RunStatus.Name(event.status).removeprefix(_STATUS_PREFIX).lower(),
        operations=event.operations,
        started_at=min(started, at),
        finished_at=at if final else None,
        updated_at=at,
        error=(
            {"type": event.error.type, "message": event.error.message}
            if event.HasField("error")
            else None
        ),
        scenario_version=event.scenario_version,
    )


def collapse(summaries: Sequence[RunSummary]) -> list[RunSummary]:
    """One summary per run for a batch: the newest event's state, started at the earliest event,
    so a batch holding a whole run costs one write."""
    newest: dict[uuid.UUID, RunSummary] = {}
    earliest: dict[uuid.UUID, datetime] = {}
    for summary in summaries:
        current = newest.get(summary.run_id)
        if current is None or summary.updated_at >= current.updated_at:
            newest[summary.run_id] = summary
        first = earliest.get(summary.run_id)
        earliest[summary.run_id] = min(first, summary.started_at) if first else summary.started_at
    return [_with_start(s, earliest[run_id]) for run_id, s in newest.items()]


def _with_start(summary: RunSummary, started_at: datetime) -> RunSummary:
    return dataclasses.replace(summary, started_at=started_at)


def summary_message(summary: RunSummary) -> RunLogSummary:
    status_name = _STATUS_PREFIX + summary.status.upper()
    status = (
        RunStatus.Value(status_name)
        if status_name in RunStatus.keys()  # noqa: SIM118 - an enum wrapper, not a dict
        else RunStatus.RUN_STATUS_UNSPECIFIED
    )
    message = RunLogSummary(
        run_id=str(summary.run_id),
        scenario_id=str(summary.scenario_id),
        scenario_version=summary.scenario_version,
        status=status,
        operations=summary.operations,
        started_at=timestamp(summary.started_at),
    )
    if summary.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(summary.finished_at))
    if summary.error:
        message.error.CopyFrom(
            Error(
                type=str(summary.error.get("type", "")),
                message=str(summary.error.get("message", "")),
            )
        )
    return message
