"""The trigger service hosted in-process (standalone mode, LocalBus) on a real Postgres.

Postgres comes from the root conftest (tests/conftest.py); this session gets a fresh database
(dropped at the end). The orchestrator is not hosted: tests read RunRequested
from the bus themselves and play the orchestrator by publishing RunEvents.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import grpc
import pytest
from pydantic import SecretStr
from scenarist_bus import topics
from scenarist_bus.local import LocalBus
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.memory import MemoryIdentityStore
from scenarist_storage.models import Role
from scenarist_trigger.settings import TriggerSettings
from support.infra import FreshDatabase
from trigger_support import AnyScenario, TriggerStack


@pytest.fixture(scope="session")
def database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("trigger")


KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def response_timeout() -> float:
    """How long the ingress waits for an answer; tests of synchronous answers raise it."""
    return 0.3


@pytest.fixture
async def stack(database_dsn: str, response_timeout: float) -> AsyncIterator[TriggerStack]:
    settings = TriggerSettings(
        service_name="trigger",
        mode="standalone",
        postgres_dsn=SecretStr(database_dsn),
        grpc_port=0,
        http_port=0,
        drain_timeout_seconds=5,
        webhook_secret_key=SecretStr(KEY),
        webhook_response_timeout_seconds=response_timeout,
    )
    lifecycle = Lifecycle(settings)
    bus = LocalBus()
    identity = MemoryIdentityStore()
    try:
        shared = {"authenticator": identity, "trigger.scenario_check": AnyScenario()}
        hosted = await start_host(["trigger"], settings, lifecycle, bus=bus, shared=shared)
        requests = bus.consumer("test-run-requests", [topics.RUNS_REQUESTED])
        await requests.start()
        org = (await identity.create_organization("Acme")).id
        _, secret = await identity.create_token(org, Role.EDITOR, "editor")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            yield TriggerStack(
                hosted,
                bus,
                identity,
                channel,
                requests,
                org,
                (("authorization", f"Bearer {secret}"),),
            )
    finally:
        await lifecycle.shutdown()
