"""The schedule editor: a scenario's schedules (ScheduleService on the trigger), every kind with
its time zone and start/end dates, the scenario's run rate limit and, for polling triggers, the
app module to poll with its connection and inputs; pause, resume and delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, Field
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist_storage.models import Role
from starlette.responses import Response

from scenarist_studio.context import Ctx
from scenarist_studio.routing import Endpoint
from scenarist_studio.views import json_text, time_text

Kind = Literal["interval", "once", "daily", "weekly", "monthly", "dates", "cron"]
_KINDS: dict[str, schedule_pb2.ScheduleKind.ValueType] = {
    "interval": schedule_pb2.SCHEDULE_KIND_INTERVAL,
    "once": schedule_pb2.SCHEDULE_KIND_ONCE,
    "daily": schedule_pb2.SCHEDULE_KIND_DAILY,
    "weekly": schedule_pb2.SCHEDULE_KIND_WEEKLY,
    "monthly": schedule_pb2.SCHEDULE_KIND_MONTHLY,
    "dates": schedule_pb2.SCHEDULE_KIND_DATES,
    "cron": schedule_pb2.SCHEDULE_KIND_CRON,
}
_KIND_NAMES = {value: name for name, value in _KINDS.items()}


class PollBody(BaseModel):
    """A polling trigger: the app's trigger module asked for new items each time it is due."""

    app: str = Field(min_length=1, max_length=100)
    module: str = Field(min_length=1, max_length=200)
    inputs: dict[str, Any] = Field(default_factory=dict)
    connection_id: str = Field(default="", max_length=100)
    max_items: int = Field(default=0, ge=0, le=1000)


class ScheduleBody(BaseModel):
    """What the editor sends; the trigger validates the timing (INVALID_ARGUMENT otherwise)."""

    name: str = Field(default="", max_length=200)
    kind: Kind
    interval_minutes: int = Field(default=0, ge=0, le=10_000_000)
    once_at: str = Field(default="", max_length=40)
    time: str = Field(default="", max_length=10)
    days: list[int] = Field(default_factory=list, max_length=31)
    dates: list[str] = Field(default_factory=list, max_length=366)
    cron: str = Field(default="", max_length=200)
    time_zone: str = Field(default="", max_length=100)
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    paused: bool = False
    # Counted per scenario by the trigger; 0 is its default. UpdateSchedule replaces the whole
    # definition, so the editor always sends both of these back.
    max_runs_per_minute: int = Field(default=0, ge=0, le=10_000)
    poll: PollBody | None = None


def _poll(body: PollBody) -> schedule_pb2.PollTarget:
    return schedule_pb2.PollTarget(
        app=body.app,
        module=body.module,
        inputs=orjson.dumps(body.inputs).decode() if body.inputs else "",
        connection_id=body.connection_id,
        max_items=body.max_items,
    )


def _poll_view(poll: schedule_pb2.PollTarget) -> dict[str, Any]:
    return {
        "app": poll.app,
        "module": poll.module,
        "inputs": json_text(poll.inputs) or {},
        "connection_id": poll.connection_id,
        "max_items": poll.max_items,
    }


def _definition(body: ScheduleBody) -> pb.ScheduleDefinition:
    definition = pb.ScheduleDefinition(
        name=body.name,
        time_zone=body.time_zone,
        timing=schedule_pb2.ScheduleTiming(
            kind=_KINDS[body.kind],
            interval_minutes=body.interval_minutes,
            once_at=body.once_at,
            time=body.time,
            days=body.days,
            dates=body.dates,
            cron=body.cron,
        ),
        max_runs_per_minute=body.max_runs_per_minute,
    )
    if body.poll is not None:
        definition.poll.CopyFrom(_poll(body.poll))
    for name in ("start_at", "end_at"):
        moment: datetime | None = getattr(body, name)
        if moment is not None:
            getattr(definition, name).FromDatetime(moment)
    return definition


def schedule_view(s: schedule_pb2.Schedule) -> dict[str, Any]:
    timing = s.timing
    return {
        "id": s.id,
        "scenario_id": s.scenario_id,
        "name": s.name,
        "kind": _KIND_NAMES.get(timing.kind, "unspecified"),
        "interval_minutes": timing.interval_minutes,
        "once_at": timing.once_at,
        "time": timing.time,
        "days": list(timing.days),
        "dates": list(timing.dates),
        "cron": timing.cron,
        "time_zone": s.time_zone,
        "start_at": time_text(s, "start_at"),
        "end_at": time_text(s, "end_at"),
        "paused": s.paused,
        "next_due_at": time_text(s, "next_due_at"),
        "last_fired_at": time_text(s, "last_fired_at"),
        "last_error": s.last_error,
        "max_runs_per_minute": s.max_runs_per_minute,
        "polling": s.HasField("poll"),
        "poll": _poll_view(s.poll) if s.HasField("poll") else None,
    }


async def list_schedules(ctx: Ctx) -> dict[str, Any]:
    request = pb.ListSchedulesRequest(scenario_id=ctx.param("scenario_id"), page_size=100)
    page = await ctx.call(ctx.studio.clients.schedules.ListSchedules, request)
    return {"schedules": [schedule_view(s) for s in page.schedules]}


async def create_schedule(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(ScheduleBody)
    request = pb.CreateScheduleRequest(
        scenario_id=ctx.param("scenario_id"), definition=_definition(body), paused=body.paused
    )
    created = await ctx.call(ctx.studio.clients.schedules.CreateSchedule, request)
    return schedule_view(created.schedule)


async def update_schedule(ctx: Ctx) -> dict[str, Any]:
    request = pb.UpdateScheduleRequest(
        schedule_id=ctx.param("schedule_id"), definition=_definition(ctx.payload(ScheduleBody))
    )
    updated = await ctx.call(ctx.studio.clients.schedules.UpdateSchedule, request)
    return schedule_view(updated.schedule)


async def pause_schedule(ctx: Ctx) -> dict[str, Any]:
    request = pb.PauseScheduleRequest(schedule_id=ctx.param("schedule_id"))
    return schedule_view(
        (await ctx.call(ctx.studio.clients.schedules.PauseSchedule, request)).schedule
    )


async def resume_schedule(ctx: Ctx) -> dict[str, Any]:
    request = pb.ResumeScheduleRequest(schedule_id=ctx.param("schedule_id"))
    done = await ctx.call(ctx.studio.clients.schedules.ResumeSchedule, request)
    return schedule_view(done.schedule)


async def delete_schedule(ctx: Ctx) -> Response:
    request = pb.DeleteScheduleRequest(schedule_id=ctx.param("schedule_id"))
    await ctx.call(ctx.studio.clients.schedules.DeleteSchedule, request)
    return Response(status_code=204)


_ONE = "/schedules/{schedule_id}"
ENDPOINTS = (
    Endpoint(
        "GET",
        "/scenarios/{scenario_id}/schedules",
        list_schedules,
        "Schedules of a scenario",
        "schedules",
    ),
    Endpoint(
        "POST",
        "/scenarios/{scenario_id}/schedules",
        create_schedule,
        "Add a schedule (every kind, with a time zone and optional start/end)",
        "schedules",
        role=Role.EDITOR,
        body=ScheduleBody,
        status=201,
    ),
    Endpoint(
        "PUT",
        _ONE,
        update_schedule,
        "Replace a schedule's definition",
        "schedules",
        role=Role.EDITOR,
        body=ScheduleBody,
    ),
    Endpoint(
        "POST", _ONE + "/pause", pause_schedule, "Stop it firing", "schedules", role=Role.EDITOR
    ),
    Endpoint(
        "POST",
        _ONE + "/resume",
        resume_schedule,
        "Fire again from the next due time",
        "schedules",
        role=Role.EDITOR,
    ),
    Endpoint(
        "DELETE",
        _ONE,
        delete_schedule,
        "Delete a schedule",
        "schedules",
        role=Role.EDITOR,
        status=204,
    ),
)
