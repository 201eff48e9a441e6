"""All five services hosted in one process (standalone mode: in-process bus, real Postgres and
Redis), reached over a real gRPC channel, running app modules against local fake servers.

Postgres and Redis come from SCENARIST_POSTGRES_DSN / SCENARIST_REDIS_URL or `deploy/infra.sh
up`; the session gets a database of its own (dropped at the end). Each test starts its own stack
with the gateway settings it needs (`start_stack(**env)`), and its own organization.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from e2e_stack import Stack, StartStack
from pydantic import SecretStr
from scenarist_connector_sdk.testing import FakeHttpServer
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

INFRA = Path(__file__).resolve().parents[3] / "deploy" / "infra.sh"
SERVICES = ["orchestrator", "executor", "trigger", "log", "connector_gateway"]


def _infra_env(component: str, variable: str) -> str:
    if found := os.environ.get(variable):
        return found
    up = subprocess.run(
        [str(INFRA), "up", component], capture_output=True, text=True, timeout=300, check=False
    )
    if up.returncode != 0:
        pytest.fail(f"deploy/infra.sh up {component} failed: {up.stderr[-2000:]}")
    env = subprocess.run(
        [str(INFRA), "env"], capture_output=True, text=True, timeout=60, check=False
    )
    for line in env.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith(f"{variable}="):
            return words[1].split("=", 1)[1]
    pytest.fail(f"deploy/infra.sh env printed no {variable}")


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_dsn() -> Iterator[str]:
    server = _infra_env("postgres", "SCENARIST_POSTGRES_DSN")
    name = f"scn_apps_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _infra_env("redis", "SCENARIST_REDIS_URL")


@pytest.fixture
def fake() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as server:
        yield server


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
async def start_stack(
    database_dsn: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartStack]:
    async with contextlib.AsyncExitStack() as exits:

        async def start(**env: Any) -> Stack:
            defaults = {
                "SCENARIST_SECRETS_KEY": _key(),
                "SCENARIST_WEBHOOK_SECRET_KEY": _key(),
                "SCENARIST_CONNECTOR_ALLOW": "127.0.0.1/32",
                "SCENARIST_RATE_LIMIT_BACKEND": "redis",
                "SCENARIST_CONNECTOR_TIMEOUT_SECONDS": "10",
            }
            for name, value in {**defaults, **env}.items():
                text = value if isinstance(value, str) else json.dumps(value)
                monkeypatch.setenv(name, text)
            settings = ServiceSettings(
                service_name="connectors-e2e",
                mode="standalone",
                http_port=0,
                grpc_port=0,
                postgres_dsn=SecretStr(database_dsn),
                redis_url=SecretStr(redis_url),
                drain_timeout_seconds=5.0,
            )
            lifecycle = Lifecycle(settings)
            exits.push_async_callback(lifecycle.shutdown)
            hosted = await start_host(SERVICES, settings, lifecycle)
            identity = PgIdentityStore(hosted.host.pool)
            org = await identity.create_organization(f"acme-{uuid.uuid4().hex[:6]}")
            _, token = await identity.create_token(org.id, Role.EDITOR, "e2e")
            return await exits.enter_async_context(Stack.connect(hosted, org.id, token))

        yield start
