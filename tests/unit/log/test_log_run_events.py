"""A run summary starts when the run started: FINISHED alone (an instant run) carries it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist.run.v1.run_pb2 import RunStatus
from scenarist_bus import envelope, topics
from scenarist_bus.port import Record
from scenarist_log.convert import decode_run_event


def _record(event: RunEvent) -> Record:
    out = envelope.wrap(
        topics.RUNS_EVENTS,
        event,
        event_type=envelope.RUN_EVENT,
        run_id=event.run_id,
        organization_id=event.organization_id,
        source="test",
    )
    return Record(out.topic, 0, 0, out.key, out.value, out.headers, 0)


def _finished(started_s: int | None) -> RunEvent:
    event = RunEvent(
        run_id=str(uuid.uuid4()),
        organization_id=str(uuid.uuid4()),
        scenario_id=str(uuid.uuid4()),
        type=RunEventType.RUN_EVENT_TYPE_FINISHED,
        status=RunStatus.RUN_STATUS_SUCCESS,
        operations=3,
    )
    event.occurred_at.FromSeconds(1_780_000_010)
    if started_s is not None:
        event.started_at.FromSeconds(started_s)
    return event


def test_finished_alone_keeps_the_start() -> None:
    summary = decode_run_event(_record(_finished(1_780_000_000)))
    assert summary.started_at == datetime.fromtimestamp(1_780_000_000, UTC)
    assert summary.finished_at == datetime.fromtimestamp(1_780_000_010, UTC)
    assert summary.status == "success"


def test_an_event_without_a_start_starts_when_it_happened() -> None:
    summary = decode_run_event(_record(_finished(None)))
    assert summary.started_at == summary.finished_at == datetime.fromtimestamp(1_780_000_010, UTC)
