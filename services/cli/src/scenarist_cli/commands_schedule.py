"""`scenarist schedule create|list|get|pause|resume|delete`: schedules on a server.

One timing option per schedule, as in Make:

    scenarist schedule create --scenario ID --every 15m
    scenarist schedule create --scenario ID --daily 09:00 --tz Europe/Prague
    scenarist schedule create --scenario ID --weekly mon,wed,fri --at 08:30
    scenarist schedule create --scenario ID --monthly 1,15 --at 06:00
    scenarist schedule create --scenario ID --dates 12-24,12-31 --at 18:00
    scenarist schedule create --scenario ID --once 2030-01-01T00:00
    scenarist schedule create --scenario ID --cron '*/5 9-17 * * mon-fri'

Register with ``add_schedule_commands(commands)`` next to the other remote command groups.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist.trigger.v1 import schedule_service_pb2_grpc as pb_grpc

from scenarist_cli.commands_remote import connection_options
from scenarist_cli.config import Api, ConfigError, resolve
from scenarist_cli.output import (
    EXIT_INVALID,
    EXIT_OK,
    as_dict,
    error_report,
    exit_code_for,
    print_error,
    print_json,
)

CALL_TIMEOUT_SECONDS = 30.0
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DURATION = re.compile(r"^(\d+)\s*([mhd]?)$")
_UNIT_MINUTES = {"": 1, "m": 1, "h": 60, "d": 1440}

Handler = Callable[[pb_grpc.ScheduleServiceStub, dict[str, Any], argparse.Namespace], int]


class UsageError(ValueError):
    """The options do not describe a schedule."""


def interval_minutes(text: str) -> int:
    """'15m', '2h', '1d' or plain minutes."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise UsageError(f"--every: {text!r} is not a duration like 15m, 2h or 1d")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]


def _weekdays(text: str) -> list[int]:
    days = []
    for word in text.lower().split(","):
        word = word.strip()
        if word.isdigit():
            days.append(int(word))
        elif word[:3] in WEEKDAYS:
            days.append(WEEKDAYS.index(word[:3]) + 1)
        else:
            raise UsageError(f"--weekly: {word!r} is not a weekday (mon..sun or 1..7)")
    return days


def _numbers(text: str, option: str) -> list[int]:
    try:
        return [int(word) for word in text.split(",")]
    except ValueError:
        raise UsageError(f"{option}: expected numbers like 1,15") from None


def timing(args: argparse.Namespace) -> schedule_pb2.ScheduleTiming:
    chosen = [name for name in ("every", "once", "daily", "weekly", "monthly", "dates", "cron")]
    chosen = [name for name in chosen if getattr(args, name, None)]
    if len(chosen) != 1:
        raise UsageError(
            "choose exactly one of --every, --once, --daily, --weekly, --monthly, --dates, --cron"
        )
    kind = chosen[0]
    value: str = getattr(args, kind)
    at = args.at or "00:00"
    if kind == "every":
        return schedule_pb2.ScheduleTiming(
            kind=schedule_pb2.SCHEDULE_KIND_INTERVAL, interval_minutes=interval_minutes(value)
        )
    if kind == "once":
        return schedule_pb2.ScheduleTiming(kind=schedule_pb2.SCHEDULE_KIND_ONCE, once_at=value)
    if kind == "daily":
        return schedule_pb2.ScheduleTiming(kind=schedule_pb2.SCHEDULE_KIND_DAILY, time=value)
    if kind == "weekly":
        return schedule_pb2.ScheduleTiming(
            kind=schedule_pb2.SCHEDULE_KIND_WEEKLY, days=_weekdays(value), time=at
        )
    if kind == "monthly":
        return schedule_pb2.ScheduleTiming(
            kind=schedule_pb2.SCHEDULE_KIND_MONTHLY, days=_numbers(value, "--monthly"), time=at
        )
    if kind == "dates":
        return schedule_pb2.ScheduleTiming(
            kind=schedule_pb2.SCHEDULE_KIND_DATES, dates=value.split(","), time=at
        )
    return schedule_pb2.ScheduleTiming(kind=schedule_pb2.SCHEDULE_KIND_CRON, cron=value)


def _instant(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def definition(args: argparse.Namespace) -> pb.ScheduleDefinition:
    request = pb.ScheduleDefinition(
        name=args.name or "",
        timing=timing(args),
        time_zone=args.tz or "",
        max_runs_per_minute=args.max_runs_per_minute or 0,
    )
    if args.start:
        request.start_at.FromDatetime(_instant(args.start, "--start"))
    if args.end:
        request.end_at.FromDatetime(_instant(args.end, "--end"))
    if args.poll:
        app, _, module = args.poll.partition(":")
        request.poll.CopyFrom(
            schedule_pb2.PollTarget(
                app=app,
                module=module,
                inputs=args.poll_inputs or "",
                connection_id=args.poll_connection or "",
                max_items=args.poll_max_items or 0,
            )
        )
    return request


def describe(schedule: schedule_pb2.Schedule) -> dict[str, Any]:
    data = as_dict(schedule)
    kind = schedule_pb2.ScheduleKind.Name(schedule.timing.kind)
    data.setdefault("timing", {})["kind"] = kind.removeprefix("SCHEDULE_KIND_").lower()
    return data


def schedule_create(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    request = pb.CreateScheduleRequest(
        scenario_id=args.scenario, definition=definition(args), paused=args.paused
    )
    print_json(describe(stub.CreateSchedule(request, **options).schedule))
    return EXIT_OK


def schedule_list(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    found: list[dict[str, Any]] = []
    token = ""
    for _ in range(1000):
        request = pb.ListSchedulesRequest(
            scenario_id=args.scenario or "", page_size=500, page_token=token
        )
        page = stub.ListSchedules(request, **options)
        found.extend(describe(s) for s in page.schedules)
        token = page.next_page_token
        if not token:
            break
    print_json({"schedules": found})
    return EXIT_OK


def schedule_get(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    request = pb.GetScheduleRequest(schedule_id=args.id)
    print_json(describe(stub.GetSchedule(request, **options).schedule))
    return EXIT_OK


def schedule_pause(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    request = pb.PauseScheduleRequest(schedule_id=args.id)
    print_json(describe(stub.PauseSchedule(request, **options).schedule))
    return EXIT_OK


def schedule_resume(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    request = pb.ResumeScheduleRequest(schedule_id=args.id)
    print_json(describe(stub.ResumeSchedule(request, **options).schedule))
    return EXIT_OK


def schedule_delete(stub: pb_grpc.ScheduleServiceStub, options: dict[str, Any], args: Any) -> int:
    stub.DeleteSchedule(pb.DeleteScheduleRequest(schedule_id=args.id), **options)
    print_json({"id": args.id, "deleted": True})
    return EXIT_OK


def remote(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        try:
            server, token = getattr(args, "server", None), getattr(args, "token", None)
            config = resolve(server, token, api=Api.TRIGGER)
        except ConfigError as exc:
            print_error({"error": str(exc)})
            return EXIT_INVALID
        options: dict[str, Any] = {
            "metadata": (("authorization", f"Bearer {config.token}"),),
            "timeout": CALL_TIMEOUT_SECONDS,
        }
        try:
            with grpc.insecure_channel(config.server) as channel:
                return handler(pb_grpc.ScheduleServiceStub(channel), options, args)
        except UsageError as exc:
            print_error({"error": str(exc)})
            return EXIT_INVALID
        except grpc.RpcError as exc:
            print_error(error_report(exc))
            return exit_code_for(exc)

    return command


def _command(
    group: Any, name: str, handler: Handler, help_text: str, parent: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, parents=[parent])
    parser.set_defaults(handler=remote(handler))
    return parser


def _timing_options(create: argparse.ArgumentParser) -> None:
    create.add_argument("--every", help="at regular intervals: 15m, 2h, 1d")
    create.add_argument("--once", help="once, at a local date-time YYYY-MM-DDTHH:MM")
    create.add_argument("--daily", help="every day at HH:MM")
    create.add_argument("--weekly", help="on weekdays (mon,wed or 1,3) at --at")
    create.add_argument("--monthly", help="on days of the month (1,15) at --at")
    create.add_argument("--dates", help="on dates MM-DD,MM-DD every year at --at")
    create.add_argument("--cron", help="a 5-field cron expression")
    create.add_argument("--at", help="time of day HH:MM for --weekly, --monthly, --dates")
    create.add_argument("--tz", help="IANA time zone, e.g. Europe/Prague (default UTC)")
    create.add_argument("--start", help="no run before this ISO date-time")
    create.add_argument("--end", help="no run after this ISO date-time")


def add_schedule_commands(commands: Any) -> None:
    parent = connection_options()
    schedule = commands.add_parser("schedule", help="manage schedules on a server")
    sub = schedule.add_subparsers(dest="schedule_command", required=True)
    create = _command(sub, "create", schedule_create, "create a schedule", parent)
    create.add_argument("--scenario", required=True, help="the scenario it starts")
    create.add_argument("--name")
    _timing_options(create)
    create.add_argument("--max-runs-per-minute", type=int, help="the scenario's rate limit")
    create.add_argument("--poll", help="make it a polling trigger of APP:MODULE")
    create.add_argument("--poll-inputs", help="the poll module's inputs, a JSON object")
    create.add_argument("--poll-connection", help="the connection id the poll module uses")
    create.add_argument(
        "--poll-max-items", type=int, help="most items (bundles) per poll; default 100"
    )
    create.add_argument("--paused", action="store_true", help="create it paused")
    _command(sub, "list", schedule_list, "list schedules, newest first", parent).add_argument(
        "--scenario", help="only schedules of this scenario"
    )
    _command(sub, "get", schedule_get, "show a schedule", parent).add_argument("id")
    _command(sub, "pause", schedule_pause, "stop a schedule firing", parent).add_argument("id")
    _command(sub, "resume", schedule_resume, "let it fire again", parent).add_argument("id")
    _command(sub, "delete", schedule_delete, "delete a schedule", parent).add_argument("id")
