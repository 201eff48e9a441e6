"""Make's queue for inactive scenarios, end to end: webhook requests to an inactive scenario are
answered 202 "queued" at once, a full queue is answered 400 "Queue is full", and activating the
scenario runs the queued requests (orchestrator, executor and trigger in one process, real
Postgres, in-process bus)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import orjson
import pytest
from pydantic import SecretStr
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import webhook_service_pb2 as hook_pb
from scenarist.trigger.v1 import webhook_service_pb2_grpc as hook_grpc
from scenarist_runtime.host import Hosted, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from scenarist_trigger.settings import TriggerSettings
from trigger_support import assert_problem, http_request

pytestmark = pytest.mark.integration

ECHO = {
    "name": "echo",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.n}}"}},
    ],
}


@dataclass
class Platform:
    hosted: Hosted
    channel: grpc.aio.Channel
    auth: tuple[tuple[str, str], ...]

    async def post(self, path: str, n: int) -> tuple[int, dict[str, object]]:
        reply = await asyncio.to_thread(
            http_request,
            self.hosted.http_url.rstrip("/") + path,
            "POST",
            orjson.dumps({"n": n}),
            {"Content-Type": "application/json"},
        )
        return reply.status, reply.json()

    async def statuses(self, scenario_id: str) -> list[str]:
        runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        page = await runs.ListRuns(
            run_service_pb2.ListRunsRequest(scenario_id=scenario_id), metadata=self.auth
        )
        return sorted(run_pb2.RunStatus.Name(r.status) for r in page.runs)


@pytest.fixture
async def platform(database_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Platform]:
    monkeypatch.setenv("SCENARIST_SCENARIO_QUEUE_LIMIT", "2")
    settings = TriggerSettings(
        service_name="platform",
        mode="standalone",
        postgres_dsn=SecretStr(database_dsn),
        grpc_port=0,
        http_port=0,
        drain_timeout_seconds=5,
        webhook_secret_key=SecretStr("b" * 43 + "="),
        # Long: a queued or refused request must be answered by its run event, not the timeout.
        webhook_response_timeout_seconds=60,
    )
    lifecycle = Lifecycle(settings)
    try:
        hosted = await start_host(["orchestrator", "executor", "trigger"], settings, lifecycle)
        identity = PgIdentityStore(hosted.host.pool)
        org = await identity.create_organization(f"acme-{uuid.uuid4().hex[:6]}")
        _, secret = await identity.create_token(org.id, Role.EDITOR, "editor")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            yield Platform(hosted, channel, (("authorization", f"Bearer {secret}"),))
    finally:
        await lifecycle.shutdown()


async def _until(check: object, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_requests_queue_while_inactive_and_run_on_activation(platform: Platform) -> None:
    scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(platform.channel)
    created = await scenarios.CreateScenario(
        scenario_service_pb2.CreateScenarioRequest(document=orjson.dumps(ECHO).decode()),
        metadata=platform.auth,
    )
    scenario_id = created.scenario.id
    assert not created.scenario.active
    hook = await hook_grpc.WebhookServiceStub(platform.channel).CreateWebhook(
        hook_pb.CreateWebhookRequest(scenario_id=scenario_id), metadata=platform.auth
    )
    path = hook.webhook.url_path

    queued = [await platform.post(path, n) for n in (1, 2)]
    assert [(status, body["status"]) for status, body in queued] == [(202, "queued")] * 2
    full = await asyncio.to_thread(
        http_request,
        platform.hosted.http_url.rstrip("/") + path,
        "POST",
        b'{"n": 3}',
        {"Content-Type": "application/json"},
    )
    assert assert_problem(full, 400)["title"] == "Queue is full"
    assert await platform.statuses(scenario_id) == [
        "RUN_STATUS_CANCELLED",
        "RUN_STATUS_QUEUED",
        "RUN_STATUS_QUEUED",
    ]

    await scenarios.ActivateScenario(
        scenario_service_pb2.ActivateScenarioRequest(scenario_id=scenario_id),
        metadata=platform.auth,
    )

    async def both_ran() -> bool:
        return await platform.statuses(scenario_id) == [
            "RUN_STATUS_CANCELLED",
            "RUN_STATUS_SUCCESS",
            "RUN_STATUS_SUCCESS",
        ]

    await _until(both_ran)
    status, body = await platform.post(path, 4)  # active now: it runs at once
    assert status == 200 and body["accepted"] is True

    # Deactivated through the API, the very next request queues again: nothing on the run path
    # may remember the scenario as active (a cache of the flag would have to be forgotten here).
    await scenarios.DeactivateScenario(
        scenario_service_pb2.DeactivateScenarioRequest(scenario_id=scenario_id),
        metadata=platform.auth,
    )
    status, body = await platform.post(path, 5)
    assert (status, body["status"]) == (202, "queued")
