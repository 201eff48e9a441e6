"""Records of the trigger service's schedules (and polling triggers), crossing the ScheduleStore
port, and of runs the orchestrator parks while their scenario is inactive (ParkedRunStore).

A schedule row holds two kinds of fields: the definition a person chose (timing, time zone,
start/end, rate limit, poll target), and the firing state the scheduler owns (next due time, the
poll cursor and recently seen item ids, and `pending`: a RunRequested written in the same
transaction that advanced the schedule, sent after the commit — a one-row outbox)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from scenarist_storage.models import JsonObject


@dataclass(frozen=True, slots=True)
class ScheduleDefinition:
    name: str
    timing: JsonObject  # the service's timing document; opaque to storage
    time_zone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs_per_minute: int = 0  # 0: the service's default
    poll: JsonObject | None = None  # set for a polling trigger; opaque to storage


@dataclass(frozen=True, slots=True)
class PendingFire:
    """A RunRequested committed with the schedule's advance, not yet acknowledged by the bus."""

    key: str  # the run's idempotency key: resending it can never start a second run
    message: bytes  # the serialized RunRequested
    since: datetime


@dataclass(frozen=True, slots=True)
class FireState:
    """What the scheduler writes back for a claimed schedule (all of it, every time)."""

    next_due_at: datetime | None  # the next slot; None: finished
    attempt_at: datetime | None  # when to look again (a delayed slot); None: finished
    cursor: str | None = None
    seen: tuple[str, ...] = ()
    pending: PendingFire | None = None
    last_fired_at: datetime | None = None
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class NewSchedule:
    id: uuid.UUID
    org_id: uuid.UUID
    scenario_id: uuid.UUID
    definition: ScheduleDefinition
    next_due_at: datetime | None
    paused: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    id: uuid.UUID
    org_id: uuid.UUID
    scenario_id: uuid.UUID
    definition: ScheduleDefinition
    paused: bool
    state: FireState
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ParkedRun:
    """A RunRequested for an inactive scenario, waiting for its activation (orchestrator)."""

    seq: int  # arrival order within the scenario's queue
    run_id: uuid.UUID
    org_id: uuid.UUID
    scenario_id: uuid.UUID
    request: bytes  # the serialized RunRequested, exactly as it arrived
    parked_at: datetime = field(compare=False)
