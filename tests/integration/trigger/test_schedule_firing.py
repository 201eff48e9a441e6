"""Schedules fired by real trigger services (Postgres, in-process bus, hand-driven clock): exactly
one replica fires a slot, restarts neither skip nor double, missed runs fire once, the rate limit
delays the excess, and a polling trigger never emits an item twice across a restart."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence

import grpc
import orjson
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_POLL, TRIGGER_SOURCE_SCHEDULE
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist_cli.commands_schedule import add_schedule_commands
from scenarist_trigger.polling import TEST_APP, ListPollSource
from schedule_support import ScheduleWorld

pytestmark = pytest.mark.integration

EVERY_15 = schedule_pb2.ScheduleTiming(
    kind=schedule_pb2.SCHEDULE_KIND_INTERVAL, interval_minutes=15
)


@pytest.fixture
async def world(database_dsn: str) -> AsyncIterator[ScheduleWorld]:
    world = ScheduleWorld(database_dsn)
    await world.setup()
    try:
        yield world
    finally:
        await world.stop_all()
        await world.forget_schedules()


def keys(requests: Sequence[RunRequested]) -> list[str]:
    return [r.idempotency_key for r in requests]


async def test_two_replicas_fire_each_slot_exactly_once(world: ScheduleWorld) -> None:
    first = await world.start_replica()
    await world.start_replica()
    schedule = await world.create(first, EVERY_15)
    assert await world.drain() == []  # not due yet
    for slot in ("08:15", "08:30", "08:45"):
        world.clock.advance(minutes=15)
        fired = await world.drain()
        assert keys(fired) == [f"schedule:{schedule.id}:2031-03-03T{slot}:00Z"]
        assert fired[0].source == TRIGGER_SOURCE_SCHEDULE
    assert await world.drain() == []


async def test_restart_neither_skips_nor_doubles_and_missed_runs_fire_once(
    world: ScheduleWorld,
) -> None:
    replica = await world.start_replica()
    schedule = await world.create(replica, EVERY_15)
    world.clock.advance(minutes=15)
    assert keys(await world.drain()) == [f"schedule:{schedule.id}:2031-03-03T08:15:00Z"]
    await world.stop_all()

    await world.start_replica()  # same time: the fired slot is not fired again
    assert await world.drain() == []
    world.clock.advance(minutes=15)  # the next slot is not skipped
    assert keys(await world.drain()) == [f"schedule:{schedule.id}:2031-03-03T08:30:00Z"]
    await world.stop_all()

    world.clock.advance(minutes=50)  # down over three slots: fire once, for the latest
    replica = await world.start_replica()
    assert keys(await world.drain()) == [f"schedule:{schedule.id}:2031-03-03T09:15:00Z"]
    got = await replica.api.GetSchedule(
        pb.GetScheduleRequest(schedule_id=schedule.id), metadata=world.auth
    )
    assert got.schedule.next_due_at.ToDatetime().isoformat() == "2031-03-03T09:30:00"


async def test_rate_limit_delays_runs_of_one_scenario(world: ScheduleWorld) -> None:
    replica = await world.start_replica()
    scenario = uuid.uuid4()
    created = [
        await world.create(replica, EVERY_15, scenario_id=scenario, max_runs_per_minute=1)
        for _ in range(2)
    ]
    world.clock.advance(minutes=15)
    first = await world.drain()
    assert len(first) == 1
    world.clock.advance(seconds=20)
    assert await world.drain() == []  # still the same minute: the other one waits
    world.clock.advance(seconds=40)
    second = await world.drain()
    # Both slots fired, each once and under its own slot's key, one minute apart.
    assert sorted(keys(first + second)) == sorted(
        f"schedule:{s.id}:2031-03-03T08:15:00Z" for s in created
    )


async def test_polling_cursor_survives_a_restart(world: ScheduleWorld) -> None:
    app = ListPollSource()
    world.sources[TEST_APP] = app
    replica = await world.start_replica()
    every_minute = schedule_pb2.ScheduleTiming(
        kind=schedule_pb2.SCHEDULE_KIND_INTERVAL, interval_minutes=1
    )
    poll = schedule_pb2.PollTarget(app=TEST_APP, module="WatchItems", inputs='{"folder": "in"}')
    schedule = await world.create(replica, every_minute, poll=poll)
    app.add("a", {"id": "a"})
    app.add("b", {"id": "b"})
    world.clock.advance(minutes=1)
    [run] = await world.drain()
    assert orjson.loads(run.trigger) == [{"id": "a"}, {"id": "b"}]
    assert run.source == TRIGGER_SOURCE_POLL and run.source_ref == schedule.id
    await world.stop_all()

    # The app keeps its items; a fresh source object knows nothing: only the stored cursor (and
    # the seen ids) can keep a and b from coming again.
    restarted = ListPollSource()
    restarted.items = list(app.items)
    restarted.add("c", {"id": "c"})
    world.sources[TEST_APP] = restarted
    await world.start_replica()
    world.clock.advance(minutes=1)
    [run] = await world.drain()
    assert orjson.loads(run.trigger) == [{"id": "c"}]
    world.clock.advance(minutes=1)
    assert await world.drain() == []
    assert restarted.polls >= 2


async def test_schedule_api_validates_pauses_and_resumes(world: ScheduleWorld) -> None:
    replica = await world.start_replica()
    bad = pb.CreateScheduleRequest(
        scenario_id=str(uuid.uuid4()),
        definition=pb.ScheduleDefinition(
            timing=schedule_pb2.ScheduleTiming(
                kind=schedule_pb2.SCHEDULE_KIND_CRON, cron="0 0 30 2 *"
            ),
            time_zone="Nowhere/Else",
        ),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await replica.api.CreateSchedule(bad, metadata=world.auth)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    assert status is not None
    details = error_details_pb2.BadRequest()
    status.details[0].Unpack(details)
    assert {v.field for v in details.field_violations} == {"time_zone"}

    daily = schedule_pb2.ScheduleTiming(kind=schedule_pb2.SCHEDULE_KIND_DAILY, time="02:30")
    schedule = await world.create(replica, daily, time_zone="Europe/Prague")
    assert schedule.next_due_at.ToDatetime().isoformat() == "2031-03-04T01:30:00"
    paused = await replica.api.PauseSchedule(
        pb.PauseScheduleRequest(schedule_id=schedule.id), metadata=world.auth
    )
    assert paused.schedule.paused
    world.clock.advance(days=2)
    assert await world.drain() == []  # paused: nothing fires
    resumed = await replica.api.ResumeSchedule(
        pb.ResumeScheduleRequest(schedule_id=schedule.id), metadata=world.auth
    )
    # Missed while paused: not caught up, it continues from now.
    assert resumed.schedule.next_due_at.ToDatetime().isoformat() == "2031-03-06T01:30:00"
    listed = await replica.api.ListSchedules(pb.ListSchedulesRequest(), metadata=world.auth)
    assert schedule.id in {s.id for s in listed.schedules}
    await replica.api.DeleteSchedule(
        pb.DeleteScheduleRequest(schedule_id=schedule.id), metadata=world.auth
    )
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await replica.api.GetSchedule(
            pb.GetScheduleRequest(schedule_id=schedule.id), metadata=world.auth
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scenarist")
    add_schedule_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


async def test_cli_create_list_delete_and_a_clear_refusal(
    world: ScheduleWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    replica = await world.start_replica()
    token = world.auth[0][1].removeprefix("Bearer ")
    conn = ["--server", f"127.0.0.1:{replica.hosted.grpc_port}", "--token", token]
    scenario = str(uuid.uuid4())
    create = ["schedule", "create", "--scenario", scenario, "--every", "15m", *conn]
    assert await asyncio.to_thread(_cli, create) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["timing"] == {"kind": "interval", "interval_minutes": 15}
    assert created["next_due_at"] == "2031-03-03T08:15:00Z"
    daily = ["schedule", "create", "--scenario", scenario, "--daily", "09:00"]
    daily += ["--tz", "America/New_York", *conn]
    assert await asyncio.to_thread(_cli, daily) == 0
    assert json.loads(capsys.readouterr().out)["next_due_at"] == "2031-03-03T14:00:00Z"
    bad = ["schedule", "create", "--scenario", scenario, "--cron", "61 * * * *", *conn]
    assert await asyncio.to_thread(_cli, bad) != 0
    assert "minute" in capsys.readouterr().err
    assert await asyncio.to_thread(_cli, ["schedule", "list", *conn]) == 0
    assert len(json.loads(capsys.readouterr().out)["schedules"]) == 2
    assert await asyncio.to_thread(_cli, ["schedule", "delete", created["id"], *conn]) == 0
    capsys.readouterr()
    world.clock.advance(minutes=15)
    assert await world.drain() == []  # deleted before its first slot
