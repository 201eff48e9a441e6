"""ScheduleService: schedules and polling triggers of the caller's organization.

Every definition is checked by computing its first due time: a malformed timing, an unknown time
zone, an end before the start or a timing that never comes due (a past ONCE, "0 0 30 2 *") is
INVALID_ARGUMENT with one field violation per problem.
"""

# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist.trigger.v1 import schedule_service_pb2_grpc as pb_grpc
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import Context, found, store_errors
from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.models import Role
from scenarist_storage.ports import ScheduleStore
from scenarist_storage.schedule_models import NewSchedule, ScheduleDefinition, ScheduleRecord

from scenarist_trigger.grpc_api import invalid, parse_id
from scenarist_trigger.scenario_check import ScenarioCheck
from scenarist_trigger.scheduler import Clock, calendar_for, calendar_of
from scenarist_trigger.timing import Kind, TimingError, timing_from_json

MAX_NAME = 200
MAX_INPUTS = 64 * 1024
MAX_RUNS_PER_MINUTE = 10_000
MAX_POLL_ITEMS = 1000
_KINDS = {
    schedule_pb2.SCHEDULE_KIND_INTERVAL: Kind.INTERVAL,
    schedule_pb2.SCHEDULE_KIND_ONCE: Kind.ONCE,
    schedule_pb2.SCHEDULE_KIND_DAILY: Kind.DAILY,
    schedule_pb2.SCHEDULE_KIND_WEEKLY: Kind.WEEKLY,
    schedule_pb2.SCHEDULE_KIND_MONTHLY: Kind.MONTHLY,
    schedule_pb2.SCHEDULE_KIND_DATES: Kind.DATES,
    schedule_pb2.SCHEDULE_KIND_CRON: Kind.CRON,
}
_KIND_NUMBERS = {kind: number for number, kind in _KINDS.items()}
Violations = list[tuple[str, str]]


def timing_json(timing: schedule_pb2.ScheduleTiming, now: datetime) -> dict[str, Any]:
    kind = _KINDS.get(timing.kind)
    data: dict[str, Any] = {"kind": kind.value if kind else ""}
    if kind is Kind.INTERVAL:
        data.update(interval_minutes=timing.interval_minutes, origin=now.isoformat())
    elif kind is Kind.ONCE:
        data["once_at"] = timing.once_at
    elif kind is Kind.CRON:
        data["cron"] = timing.cron
    elif kind is not None:
        data["time"] = timing.time
        data["days"] = list(timing.days)
        data["dates"] = list(timing.dates)
    return data


def _poll_json(poll: schedule_pb2.PollTarget, violations: Violations) -> dict[str, Any]:
    if not poll.app or not poll.module:
        violations.append(("definition.poll", "app and module are required"))
    inputs: Any = {}
    if poll.inputs:
        try:
            inputs = orjson.loads(poll.inputs) if len(poll.inputs) <= MAX_INPUTS else None
        except orjson.JSONDecodeError:
            inputs = None
        if not isinstance(inputs, dict):
            violations.append(("definition.poll.inputs", "must be a JSON object (at most 64 KiB)"))
    if not 0 <= poll.max_items <= MAX_POLL_ITEMS:
        violations.append(("definition.poll.max_items", f"must be within 0..{MAX_POLL_ITEMS}"))
    return {
        "app": poll.app,
        "module": poll.module,
        "inputs": inputs if isinstance(inputs, dict) else {},
        "connection_id": poll.connection_id,
        "max_items": poll.max_items,
    }


def _window(request: pb.ScheduleDefinition, violations: Violations) -> tuple[Any, Any]:
    start = request.start_at.ToDatetime(tzinfo=UTC) if request.HasField("start_at") else None
    end = request.end_at.ToDatetime(tzinfo=UTC) if request.HasField("end_at") else None
    if start is not None and end is not None and end < start:
        violations.append(("definition.end_at", "must not be before start_at"))
    return start, end


def definition_from_proto(request: pb.ScheduleDefinition, now: datetime) -> ScheduleDefinition:
    """The stored definition; raises TimingError with every problem found."""
    violations: Violations = []
    if len(request.name) > MAX_NAME:
        violations.append(("definition.name", f"at most {MAX_NAME} characters"))
    if not 0 <= request.max_runs_per_minute <= MAX_RUNS_PER_MINUTE:
        violations.append(
            ("definition.max_runs_per_minute", f"must be within 0..{MAX_RUNS_PER_MINUTE}")
        )
    start, end = _window(request, violations)
    poll = _poll_json(request.poll, violations) if request.HasField("poll") else None
    timing = timing_json(request.timing, now)
    try:
        timing_from_json(timing)
    except TimingError as exc:
        violations.extend((f"definition.{f}", d) for f, d in exc.problems)
    if violations:
        raise TimingError(violations)
    return ScheduleDefinition(
        name=request.name or "Schedule",
        timing=timing,
        time_zone=request.time_zone or "UTC",
        start_at=start,
        end_at=end,
        max_runs_per_minute=request.max_runs_per_minute,
        poll=poll,
    )


def first_due(definition: ScheduleDefinition, now: datetime) -> datetime:
    """The next slot after `now`; TimingError when there is none."""
    due = calendar_for(definition, now).next_due(now)
    if due is None:
        raise TimingError([("definition.timing", "never comes due after now (or after end_at)")])
    return due


def _timestamp(moment: datetime | None, target: Any) -> None:
    if moment is not None:
        target.FromDatetime(moment.astimezone(UTC))


def schedule_message(record: ScheduleRecord) -> schedule_pb2.Schedule:
    d = record.definition
    t = d.timing
    timing = schedule_pb2.ScheduleTiming(
        kind=_KIND_NUMBERS.get(Kind(t["kind"]), schedule_pb2.SCHEDULE_KIND_UNSPECIFIED),
        interval_minutes=int(t.get("interval_minutes", 0)),
        once_at=str(t.get("once_at", "")),
        time=str(t.get("time", "")),
        days=[int(x) for x in t.get("days", [])],
        dates=[str(x) for x in t.get("dates", [])],
        cron=str(t.get("cron", "")),
    )
    message = schedule_pb2.Schedule(
        id=str(record.id),
        organization_id=str(record.org_id),
        scenario_id=str(record.scenario_id),
        name=d.name,
        timing=timing,
        time_zone=d.time_zone,
        max_runs_per_minute=d.max_runs_per_minute,
        paused=record.paused,
        last_error=record.state.last_error,
    )
    if d.poll is not None:
        message.poll.CopyFrom(
            schedule_pb2.PollTarget(
                app=str(d.poll.get("app", "")),
                module=str(d.poll.get("module", "")),
                inputs=orjson.dumps(d.poll.get("inputs", {})).decode(),
                connection_id=str(d.poll.get("connection_id", "")),
                max_items=int(d.poll.get("max_items", 0)),
            )
        )
    _timestamp(d.start_at, message.start_at)
    _timestamp(d.end_at, message.end_at)
    _timestamp(record.state.next_due_at, message.next_due_at)
    _timestamp(record.state.last_fired_at, message.last_fired_at)
    _timestamp(record.created_at, message.created_at)
    _timestamp(record.updated_at, message.updated_at)
    return message


class ScheduleServicer(pb_grpc.ScheduleServiceServicer):
    def __init__(self, store: ScheduleStore, clock: Clock, *, scenarios: ScenarioCheck) -> None:
        self._store = store
        self._clock = clock
        self._scenarios = scenarios

    async def _definition(
        self, context: Context, request: pb.ScheduleDefinition
    ) -> tuple[ScheduleDefinition, datetime]:
        now = self._clock()
        try:
            definition = definition_from_proto(request, now)
            return definition, first_due(definition, now)
        except TimingError as exc:
            await invalid(context, exc.problems)

    async def _get(self, context: Context, raw_id: str) -> ScheduleRecord:
        schedule_id = await parse_id(context, raw_id, "schedule_id")
        return await found(
            context, await self._store.get(current_principal().org_id, schedule_id), "schedule"
        )

    async def CreateSchedule(
        self, request: pb.CreateScheduleRequest, context: Context
    ) -> pb.CreateScheduleResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        definition, due = await self._definition(context, request.definition)
        await self._scenarios.require(context, scenario_id)
        record = await self._store.create(
            NewSchedule(
                id=uuid.uuid4(),
                org_id=principal.org_id,
                scenario_id=scenario_id,
                definition=definition,
                next_due_at=due,
                paused=request.paused,
            )
        )
        return pb.CreateScheduleResponse(schedule=schedule_message(record))

    async def GetSchedule(
        self, request: pb.GetScheduleRequest, context: Context
    ) -> pb.GetScheduleResponse:
        record = await self._get(context, request.schedule_id)
        return pb.GetScheduleResponse(schedule=schedule_message(record))

    async def ListSchedules(
        self, request: pb.ListSchedulesRequest, context: Context
    ) -> pb.ListSchedulesResponse:
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id", optional=True)
        if request.page_size < 0:
            await invalid(context, [("page_size", "must not be negative")])
        size = 50 if request.page_size == 0 else min(request.page_size, 500)
        try:
            page = await self._store.list(
                current_principal().org_id,
                scenario_id=scenario_id,
                page_size=size,
                page_token=request.page_token or None,
            )
        except InvalidPageTokenError:
            await invalid(context, [("page_token", "invalid page token")])
        return pb.ListSchedulesResponse(
            schedules=[schedule_message(r) for r in page.items],
            next_page_token=page.next_page_token or "",
        )

    async def UpdateSchedule(
        self, request: pb.UpdateScheduleRequest, context: Context
    ) -> pb.UpdateScheduleResponse:
        principal = await require_role(context, Role.EDITOR)
        record = await self._get(context, request.schedule_id)
        definition, due = await self._definition(context, request.definition)
        async with store_errors(context, "schedule"):
            updated = await self._store.redefine(principal.org_id, record.id, definition, due)
        return pb.UpdateScheduleResponse(schedule=schedule_message(updated))

    async def DeleteSchedule(
        self, request: pb.DeleteScheduleRequest, context: Context
    ) -> pb.DeleteScheduleResponse:
        principal = await require_role(context, Role.EDITOR)
        schedule_id = await parse_id(context, request.schedule_id, "schedule_id")
        async with store_errors(context, "schedule"):
            await self._store.delete(principal.org_id, schedule_id)
        return pb.DeleteScheduleResponse()

    async def _pause(self, context: Context, raw_id: str, paused: bool) -> ScheduleRecord:
        principal = await require_role(context, Role.EDITOR)
        record = await self._get(context, raw_id)
        due = record.state.next_due_at
        if not paused and record.paused:
            # Times missed while paused are not caught up: continue from now.
            try:
                due = calendar_of(record).next_due(self._clock())
            except TimingError:
                due = None
        async with store_errors(context, "schedule"):
            return await self._store.set_paused(principal.org_id, record.id, paused, due)
        raise AssertionError("unreachable")

    async def PauseSchedule(
        self, request: pb.PauseScheduleRequest, context: Context
    ) -> pb.PauseScheduleResponse:
        record = await self._pause(context, request.schedule_id, True)
        return pb.PauseScheduleResponse(schedule=schedule_message(record))

    async def ResumeSchedule(
        self, request: pb.ResumeScheduleRequest, context: Context
    ) -> pb.ResumeScheduleResponse:
        record = await self._pause(context, request.schedule_id, False)
        return pb.ResumeScheduleResponse(schedule=schedule_message(record))
