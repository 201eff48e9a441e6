"""Webhooks and schedules bind only the caller's own scenarios: the trigger asks the orchestrator's
GetScenario with the caller's token, so another organization's scenario (or none at all) is
NOT_FOUND as the orchestrator decides, and nothing is stored.

Two topologies on a real Postgres: one standalone process hosting orchestrator and trigger (the
trigger asks through the process's own gRPC port), and a trigger process in distributed mode next
to an orchestrator process (it asks at `orchestrator_target` and checks tokens remotely too).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
import pytest
from pydantic import SecretStr
from scenarist.scenario.v1 import scenario_service_pb2 as sc
from scenarist.scenario.v1 import scenario_service_pb2_grpc as sc_grpc
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as sch
from scenarist.trigger.v1 import schedule_service_pb2_grpc as sch_grpc
from scenarist.trigger.v1 import webhook_service_pb2 as wh
from scenarist.trigger.v1 import webhook_service_pb2_grpc as wh_grpc
from scenarist_bus.local import LocalBus
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.memory import MemoryIdentityStore
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from scenarist_trigger.settings import TriggerSettings

pytestmark = pytest.mark.integration

KEY = "c" * 43 + "="
ECHO = {"name": "echo", "flow": [{"id": 1, "module": "gateway:CustomWebHook"}]}
EVERY_15 = schedule_pb2.ScheduleTiming(
    kind=schedule_pb2.SCHEDULE_KIND_INTERVAL, interval_minutes=15
)
Metadata = tuple[tuple[str, str], ...]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(dsn: str, **overrides: Any) -> TriggerSettings:
    values: dict[str, Any] = {
        "service_name": "tenancy",
        "mode": "standalone",
        "postgres_dsn": SecretStr(dsn),
        "grpc_port": 0,
        "http_port": 0,
        "drain_timeout_seconds": 5,
        "webhook_secret_key": SecretStr(KEY),
    }
    return TriggerSettings(**(values | overrides))


@dataclass
class Platform:
    orchestrator: grpc.aio.Channel
    trigger: grpc.aio.Channel
    acme: Metadata
    globex: Metadata

    @property
    def webhooks(self) -> wh_grpc.WebhookServiceAsyncStub:
        return wh_grpc.WebhookServiceStub(self.trigger)

    @property
    def schedules(self) -> sch_grpc.ScheduleServiceAsyncStub:
        return sch_grpc.ScheduleServiceStub(self.trigger)

    async def scenario(self, auth: Metadata) -> str:
        created = await sc_grpc.ScenarioServiceStub(self.orchestrator).CreateScenario(
            sc.CreateScenarioRequest(document=orjson.dumps(ECHO).decode()), metadata=auth
        )
        return created.scenario.id


async def _editors(identity: PgIdentityStore) -> tuple[Metadata, Metadata]:
    found = []
    for name in ("acme", "globex"):
        org = await identity.create_organization(f"{name}-{uuid.uuid4().hex[:6]}")
        _, secret = await identity.create_token(org.id, Role.EDITOR, "editor")
        found.append((("authorization", f"Bearer {secret}"),))
    return found[0], found[1]


@pytest.fixture(params=["one standalone process", "trigger and orchestrator processes"])
async def platform(request: pytest.FixtureRequest, database_dsn: str) -> AsyncIterator[Platform]:
    together = request.param == "one standalone process"
    lifecycles = [Lifecycle(_settings(database_dsn))]
    try:
        names = ["orchestrator", "trigger"] if together else ["orchestrator"]
        first = await start_host(names, _settings(database_dsn), lifecycles[0])
        trigger_port = first.grpc_port
        if not together:
            # The orchestrator's process migrated the database; this one only asks it.
            settings = _settings(
                database_dsn,
                mode="distributed",
                orchestrator_target=f"127.0.0.1:{first.grpc_port}",
            )
            lifecycles.append(Lifecycle(settings))
            second = await start_host(["trigger"], settings, lifecycles[1], bus=LocalBus())
            trigger_port = second.grpc_port
        acme, globex = await _editors(PgIdentityStore(first.host.pool))
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{first.grpc_port}") as orchestrator,
            grpc.aio.insecure_channel(f"127.0.0.1:{trigger_port}") as trigger,
        ):
            yield Platform(orchestrator, trigger, acme, globex)
    finally:
        for lifecycle in reversed(lifecycles):
            await lifecycle.shutdown()


async def _code(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_a_webhook_binds_only_the_callers_own_scenario(platform: Platform) -> None:
    acme_scenario = await platform.scenario(platform.acme)
    hooks = platform.webhooks

    def create(scenario_id: str, auth: Metadata) -> Awaitable[wh.CreateWebhookResponse]:
        return hooks.CreateWebhook(wh.CreateWebhookRequest(scenario_id=scenario_id), metadata=auth)

    assert await _code(create(acme_scenario, platform.globex)) == grpc.StatusCode.NOT_FOUND
    assert await _code(create(str(uuid.uuid4()), platform.acme)) == grpc.StatusCode.NOT_FOUND
    listed = await hooks.ListWebhooks(wh.ListWebhooksRequest(), metadata=platform.globex)
    assert list(listed.webhooks) == []

    own = (await create(acme_scenario, platform.acme)).webhook
    assert own.scenario_id == acme_scenario
    unbound = await hooks.CreateWebhook(wh.CreateWebhookRequest(), metadata=platform.globex)
    assert unbound.webhook.scenario_id == ""


async def test_a_webhook_attaches_only_to_the_callers_own_scenario(platform: Platform) -> None:
    acme_scenario = await platform.scenario(platform.acme)
    globex_scenario = await platform.scenario(platform.globex)
    hooks = platform.webhooks
    hook_id = (
        await hooks.CreateWebhook(wh.CreateWebhookRequest(), metadata=platform.globex)
    ).webhook.id

    def attach(scenario_id: str) -> Awaitable[wh.AttachWebhookResponse]:
        request = wh.AttachWebhookRequest(webhook_id=hook_id, scenario_id=scenario_id)
        return hooks.AttachWebhook(request, metadata=platform.globex)

    assert await _code(attach(acme_scenario)) == grpc.StatusCode.NOT_FOUND
    got = await hooks.GetWebhook(wh.GetWebhookRequest(webhook_id=hook_id), metadata=platform.globex)
    assert got.webhook.scenario_id == ""
    assert (await attach(globex_scenario)).webhook.scenario_id == globex_scenario
    assert (await attach("")).webhook.scenario_id == ""  # detaching needs no scenario


async def test_a_schedule_starts_only_the_callers_own_scenario(platform: Platform) -> None:
    acme_scenario = await platform.scenario(platform.acme)

    def create(scenario_id: str, auth: Metadata) -> Awaitable[sch.CreateScheduleResponse]:
        request = sch.CreateScheduleRequest(
            scenario_id=scenario_id, definition=sch.ScheduleDefinition(timing=EVERY_15)
        )
        return platform.schedules.CreateSchedule(request, metadata=auth)

    assert await _code(create(acme_scenario, platform.globex)) == grpc.StatusCode.NOT_FOUND
    assert await _code(create(str(uuid.uuid4()), platform.globex)) == grpc.StatusCode.NOT_FOUND
    listed = await platform.schedules.ListSchedules(
        sch.ListSchedulesRequest(), metadata=platform.globex
    )
    assert list(listed.schedules) == []
    assert (await create(acme_scenario, platform.acme)).schedule.scenario_id == acme_scenario


async def test_no_scenario_is_bound_while_the_orchestrator_cannot_be_asked(
    database_dsn: str,
) -> None:
    settings = _settings(
        database_dsn, mode="distributed", orchestrator_target=f"127.0.0.1:{_free_port()}"
    )
    lifecycle = Lifecycle(settings)
    identity = (
        MemoryIdentityStore()
    )  # tokens are checked here; only scenarios need the orchestrator
    org = (await identity.create_organization("acme")).id
    _, secret = await identity.create_token(org, Role.EDITOR, "editor")
    auth = (("authorization", f"Bearer {secret}"),)
    try:
        hosted = await start_host(
            ["trigger"], settings, lifecycle, bus=LocalBus(), shared={"authenticator": identity}
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            hooks = wh_grpc.WebhookServiceStub(channel)
            bound = hooks.CreateWebhook(
                wh.CreateWebhookRequest(scenario_id=str(uuid.uuid4())), metadata=auth
            )
            assert await _code(bound) == grpc.StatusCode.UNAVAILABLE
            listed = await hooks.ListWebhooks(wh.ListWebhooksRequest(), metadata=auth)
            assert list(listed.webhooks) == []
            assert await _code(hooks.CreateWebhook(wh.CreateWebhookRequest(), metadata=auth)) == (
                grpc.StatusCode.OK
            )
    finally:
        await lifecycle.shutdown()
