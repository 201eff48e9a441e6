"""The schedule editor's polling triggers and run rate limit: what the editor sends reaches
ScheduleService whole (UpdateSchedule replaces the definition, so nothing may be dropped), and
comes back in the view the editor fills its form from."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from conftest import World
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist_storage.models import Role

POLLING = {
    "name": "New rows",
    "kind": "interval",
    "interval_minutes": 5,
    "time_zone": "Europe/Prague",
    "max_runs_per_minute": 12,
    "poll": {
        "app": "google-sheets",
        "module": "WatchRows",
        "inputs": {"sheet": "Orders", "start": "all"},
        "connection_id": "c-1",
        "max_items": 50,
    },
}


class _Schedules:
    """Stands in for ScheduleService: echoes the definition as the stored schedule."""

    def __init__(self) -> None:
        self.definitions: list[pb.ScheduleDefinition] = []

    def _stored(self, definition: pb.ScheduleDefinition) -> schedule_pb2.Schedule:
        self.definitions.append(definition)
        schedule = schedule_pb2.Schedule(
            id="s-1",
            scenario_id="abc",
            name=definition.name,
            timing=definition.timing,
            time_zone=definition.time_zone,
            max_runs_per_minute=definition.max_runs_per_minute,
        )
        if definition.HasField("poll"):
            schedule.poll.CopyFrom(definition.poll)
        return schedule

    async def CreateSchedule(
        self, request: pb.CreateScheduleRequest, **_: Any
    ) -> pb.CreateScheduleResponse:
        return pb.CreateScheduleResponse(schedule=self._stored(request.definition))

    async def UpdateSchedule(
        self, request: pb.UpdateScheduleRequest, **_: Any
    ) -> pb.UpdateScheduleResponse:
        return pb.UpdateScheduleResponse(schedule=self._stored(request.definition))


@pytest.fixture
async def editor(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> tuple[_Schedules, dict[str, str]]:
    fake = _Schedules()
    monkeypatch.setattr(world.studio.clients, "schedules", fake)
    await world.add_user("ed@example.com", Role.EDITOR)
    return fake, {"x-csrf-token": await world.sign_in("ed@example.com")}


async def test_a_polling_schedule_reaches_the_trigger_whole_and_reads_back(
    world: World, editor: tuple[_Schedules, dict[str, str]]
) -> None:
    fake, headers = editor
    created = await world.client.post("/api/scenarios/abc/schedules", json=POLLING, headers=headers)
    assert created.status_code == 201, created.text
    sent = fake.definitions[0]
    assert sent.max_runs_per_minute == 12
    assert (sent.poll.app, sent.poll.module) == ("google-sheets", "WatchRows")
    assert orjson.loads(sent.poll.inputs) == {"sheet": "Orders", "start": "all"}
    assert (sent.poll.connection_id, sent.poll.max_items) == ("c-1", 50)
    view = created.json()
    assert view["polling"] is True and view["max_runs_per_minute"] == 12
    assert view["poll"] == POLLING["poll"]


async def test_editing_keeps_the_poll_target_and_a_plain_schedule_has_none(
    world: World, editor: tuple[_Schedules, dict[str, str]]
) -> None:
    fake, headers = editor
    updated = await world.client.put(
        "/api/schedules/s-1", json={**POLLING, "interval_minutes": 10}, headers=headers
    )
    assert updated.status_code == 200, updated.text
    assert fake.definitions[-1].HasField("poll") and updated.json()["poll"]["module"] == "WatchRows"
    plain = await world.client.put(
        "/api/schedules/s-1", json={"kind": "daily", "time": "09:00"}, headers=headers
    )
    assert not fake.definitions[-1].HasField("poll") and fake.definitions[-1].poll.inputs == ""
    assert plain.json()["poll"] is None and plain.json()["max_runs_per_minute"] == 0


async def test_poll_targets_and_rate_limits_are_checked_before_any_call(
    world: World, editor: tuple[_Schedules, dict[str, str]]
) -> None:
    fake, headers = editor
    bad = await world.client.post(
        "/api/scenarios/abc/schedules",
        json={**POLLING, "max_runs_per_minute": -1, "poll": {"app": "", "module": "WatchRows"}},
        headers=headers,
    )
    assert bad.status_code == 400
    fields = {v["field"] for v in bad.json()["violations"]}
    assert fields == {"max_runs_per_minute", "poll.app"}
    assert fake.definitions == []
