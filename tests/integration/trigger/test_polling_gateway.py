"""Polling triggers through the connector gateway, on the whole platform in one process
(standalone: in-process bus, real Postgres) with a hand-driven scheduler clock.

A schedule polls github:WatchIssues on the fake GitHub: each new issue becomes one bundle of a
run; a poll with nothing new starts no run; a restarted platform (new host, same database)
re-emits nothing; issues added later come with the next poll. A schedule naming another
organization's connection is paused with the reason, and GitHub never sees a request.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import grpc
import pytest
from pydantic import SecretStr
from scenarist.connector.v1 import connection_service_pb2, connection_service_pb2_grpc
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as spb
from scenarist.trigger.v1 import schedule_service_pb2_grpc as spb_grpc
from scenarist_bus import envelope, topics
from scenarist_bus.port import Consumer
from scenarist_runtime.host import Hosted, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from scenarist_trigger.scheduler import Scheduler
from support.infra import FreshDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))  # the fakes package
from fakes import github
from fakes.base import PatternServer

pytestmark = pytest.mark.integration

SERVICES = ["orchestrator", "executor", "trigger", "connector_gateway", "log"]
T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
FINAL = {
    run_pb2.RUN_STATUS_SUCCESS,
    run_pb2.RUN_STATUS_WARNING,
    run_pb2.RUN_STATUS_ERROR,
    run_pb2.RUN_STATUS_CANCELLED,
}
EVERY_MINUTE = schedule_pb2.ScheduleTiming(
    kind=schedule_pb2.SCHEDULE_KIND_INTERVAL, interval_minutes=1
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="module")
def database_dsn(fresh_database: FreshDatabase) -> str:
    return str(fresh_database("polling"))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same keys for every host of a test: a restart must open the connections sealed before.
    for name, value in {
        "SCENARIST_SECRETS_KEY": _key(),
        "SCENARIST_WEBHOOK_SECRET_KEY": _key(),
        "SCENARIST_CONNECTOR_ALLOW": "127.0.0.1/32",
        "SCENARIST_RATE_LIMIT_BACKEND": "memory",
        "SCENARIST_CONNECTOR_TIMEOUT_SECONDS": "10",
        "SCENARIST_SCHEDULE_TICK_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(name, value)


@dataclass
class Platform:
    """The five services in this process, with a recording consumer of runs.requested."""

    hosted: Hosted
    lifecycle: Lifecycle
    channel: grpc.aio.Channel
    requests: Consumer

    @property
    def scheduler(self) -> Scheduler:
        found: Scheduler = self.hosted.host.shared["trigger.scheduler"]
        return found


@dataclass
class World:
    dsn: str
    clock: Clock = field(default_factory=Clock)
    platform: Platform | None = None
    auth: tuple[tuple[str, str], ...] = ()
    org: str = ""

    @property
    def channel(self) -> grpc.aio.Channel:
        assert self.platform is not None
        return self.platform.channel

    async def start(self) -> None:
        settings = ServiceSettings(
            service_name="polling-e2e",
            mode="standalone",
            http_port=0,
            grpc_port=0,
            postgres_dsn=SecretStr(self.dsn),
            drain_timeout_seconds=5.0,
        )
        lifecycle = Lifecycle(settings)
        shared: dict[str, Any] = {"trigger.clock": self.clock}
        hosted = await start_host(SERVICES, settings, lifecycle, shared=shared)
        requests = hosted.host.bus.consumer(f"test-{uuid.uuid4().hex}", [topics.RUNS_REQUESTED])
        await requests.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}")
        self.platform = Platform(hosted, lifecycle, channel, requests)

    async def stop(self) -> None:
        if self.platform is not None:
            await self.platform.channel.close(None)
            await self.platform.lifecycle.shutdown()
            self.platform = None

    async def organization(self, name: str) -> tuple[tuple[str, str], ...]:
        assert self.platform is not None
        identity = PgIdentityStore(self.platform.hosted.host.pool)
        org = await identity.create_organization(f"{name}-{uuid.uuid4().hex[:6]}")
        _, token = await identity.create_token(org.id, Role.EDITOR, "polling")
        self.org = self.org or str(org.id)
        return (("authorization", f"Bearer {token}"),)

    async def github_connection(self, auth: Any, fake: PatternServer) -> str:
        stub = connection_service_pb2_grpc.ConnectionServiceStub(self.channel)
        created = await stub.CreateConnection(
            connection_service_pb2.CreateConnectionRequest(
                app="github",
                type=ConnectionType.CONNECTION_TYPE_BEARER,
                name="fake GitHub",
                parameters={"base_url": fake.url},
                secrets={"token": github.TOKEN},
            ),
            metadata=auth,
        )
        return str(created.connection.id)

    async def active_scenario(self, connection: str) -> str:
        """A scenario started by github:WatchIssues whose module 2 reads each issue's title."""
        document = {
            "name": "new issues",
            "flow": [
                {
                    "id": 1,
                    "module": "github:WatchIssues",
                    "parameters": {"connection": connection},
                    "mapper": {"owner": "o", "repo": "r"},
                },
                {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.title}}"}},
            ],
        }
        stub = scenario_service_pb2_grpc.ScenarioServiceStub(self.channel)
        created = await stub.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=json.dumps(document)),
            metadata=self.auth,
        )
        await stub.ActivateScenario(
            scenario_service_pb2.ActivateScenarioRequest(scenario_id=created.scenario.id),
            metadata=self.auth,
        )
        return str(created.scenario.id)

    async def polling_schedule(
        self, scenario_id: str, connection: str, **inputs: Any
    ) -> schedule_pb2.Schedule:
        poll = schedule_pb2.PollTarget(
            app="github",
            module="WatchIssues",
            inputs=json.dumps({"owner": "o", "repo": "r", **inputs}),
            connection_id=connection,
        )
        created = await self.schedules.CreateSchedule(
            spb.CreateScheduleRequest(
                scenario_id=scenario_id,
                definition=spb.ScheduleDefinition(timing=EVERY_MINUTE, poll=poll),
            ),
            metadata=self.auth,
        )
        schedule: schedule_pb2.Schedule = created.schedule
        return schedule

    @property
    def schedules(self) -> Any:  # grpc-stubs type the aio stub's calls as blocking
        return spb_grpc.ScheduleServiceStub(self.channel)

    async def next_poll(self) -> list[RunRequested]:
        """Advance the clock to the next slot; the RunRequested of this test's organization that
        the scheduler's passes sent (they are on the bus before a pass ends)."""
        assert self.platform is not None
        self.clock.now += timedelta(minutes=1)
        scheduler = self.platform.scheduler
        goal = scheduler.passes + 3
        await until(lambda: scheduler.passes >= goal or None, "the scheduler stopped")
        found: list[RunRequested] = []
        while records := await self.platform.requests.getmany(timeout_ms=50):
            for record in records:
                request = envelope.payload_as(envelope.unwrap(record), RunRequested)
                if request.organization_id == self.org:
                    found.append(request)
        return found

    async def titles(self, run_id: str, expected: int) -> list[str]:
        """Module 2's outputs in the finished run: one per trigger bundle."""
        runs = run_service_pb2_grpc.RunServiceStub(self.channel)

        async def finished() -> Any:
            got = await runs.GetRun(
                run_service_pb2.GetRunRequest(run_id=run_id), metadata=self.auth
            )
            return got.run if got.run.status in FINAL else None

        run = await until(finished, f"run {run_id} did not finish")
        assert run.status == run_pb2.RUN_STATUS_SUCCESS, run.error
        assert run.trigger_source == run_pb2.TRIGGER_SOURCE_POLL
        logs = log_service_pb2_grpc.LogServiceStub(self.channel)

        async def steps() -> list[Any] | None:
            page = await logs.GetRunLog(
                log_service_pb2.GetRunLogRequest(run_id=run_id, page_size=100), metadata=self.auth
            )
            mine = [s for s in page.steps if s.module_id == 2]
            return mine if len(mine) >= expected else None

        found = await until(steps, f"no {expected} steps of module 2")
        return [json.loads(step.output)[0]["value"] for step in found]

    async def run_ids(self, scenario_id: str) -> set[str]:
        runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        page = await runs.ListRuns(
            run_service_pb2.ListRunsRequest(scenario_id=scenario_id), metadata=self.auth
        )
        return {run.id for run in page.runs}


async def until(check: Any, failure: str, attempts: int = 400) -> Any:
    for _ in range(attempts):
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found is not None:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError(failure)


@pytest.fixture
async def world(database_dsn: str, environment: None) -> AsyncIterator[World]:
    world = World(database_dsn)
    await world.start()
    world.auth = await world.organization("acme")
    try:
        yield world
    finally:
        await world.stop()
        # Later tests' clocks must not fire this test's schedules.
        connection = await asyncpg.connect(database_dsn)
        try:
            await connection.execute("DELETE FROM trigger.schedules")
        finally:
            await connection.close()


@pytest.fixture
def fake() -> Iterator[PatternServer]:
    with github.server() as server:
        yield server


def new_issue(fake: PatternServer, title: str, day: int) -> None:
    issues: list[dict[str, Any]] = fake.state["issues"]
    stamp = f"2024-02-{day:02d}T00:00:00Z"
    number = len(issues) + 1
    issue = {**issues[0], "id": 1000 + number, "number": number, "title": title}
    issues.append({**issue, "created_at": stamp, "updated_at": stamp})


async def test_each_new_issue_is_one_bundle_once_across_a_restart(
    world: World, fake: PatternServer
) -> None:
    connection = await world.github_connection(world.auth, fake)
    scenario_id = await world.active_scenario(connection)
    await world.polling_schedule(scenario_id, connection, start="all")

    [first] = await world.next_poll()
    # Issue 2 is a pull request: the trigger skips it.
    assert await world.titles(first.run_id, 2) == ["Issue 1", "Issue 3"]
    assert await world.next_poll() == []  # nothing new: no run
    assert await world.run_ids(scenario_id) == {first.run_id}

    await world.stop()
    await world.start()  # the same database: the cursor and seen ids are all that remain
    before = len(fake.requests)
    assert await world.next_poll() == []
    assert len(fake.requests) > before  # it did poll GitHub, and found nothing new

    new_issue(fake, "Broken build", 1)
    new_issue(fake, "Flaky test", 2)
    [second] = await world.next_poll()
    assert await world.titles(second.run_id, 2) == ["Broken build", "Flaky test"]
    assert await world.next_poll() == []
    assert await world.run_ids(scenario_id) == {first.run_id, second.run_id}


async def test_another_organizations_connection_pauses_the_schedule(
    world: World, fake: PatternServer
) -> None:
    theirs = await world.github_connection(await world.organization("other"), fake)
    scenario_id = await world.active_scenario(theirs)
    schedule = await world.polling_schedule(scenario_id, theirs, start="all")

    assert await world.next_poll() == []
    got = await world.schedules.GetSchedule(
        spb.GetScheduleRequest(schedule_id=schedule.id), metadata=world.auth
    )
    assert got.schedule.paused
    assert got.schedule.last_error.startswith("paused: github:WatchIssues:")
    assert f"connection {theirs} not found" in got.schedule.last_error
    assert fake.requests == []  # the other organization's token was never used
    assert await world.next_poll() == []  # paused: no more polls
