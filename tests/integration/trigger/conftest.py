"""The trigger service hosted in-process (standalone mode, LocalBus) on a real Postgres.

Postgres comes from SCENARIST_POSTGRES_DSN or `deploy/infra.sh up postgres`; this session gets a
fresh database (dropped at the end). The orchestrator is not hosted: tests read RunRequested
from the bus themselves and play the orchestrator by publishing RunEvents.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
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
from trigger_support import AnyScenario, TriggerStack

INFRA = Path(__file__).resolve().parents[3] / "deploy" / "infra.sh"


def _server_dsn() -> str:
    if dsn := os.environ.get("SCENARIST_POSTGRES_DSN"):
        return dsn
    up = subprocess.run(
        [str(INFRA), "up", "postgres"], capture_output=True, text=True, timeout=300, check=False
    )
    if up.returncode != 0:
        pytest.fail(f"infra.sh up postgres failed: {up.stderr[-2000:]}")
    env = subprocess.run(
        [str(INFRA), "env"], capture_output=True, text=True, timeout=60, check=False
    )
    for line in env.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_POSTGRES_DSN="):
            return words[1].split("=", 1)[1]
    pytest.fail(f"infra.sh env printed no SCENARIST_POSTGRES_DSN: {env.stdout!r}")


async def _admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_dsn() -> Iterator[str]:
    server = _server_dsn()
    name = f"scn_trigger_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


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
