"""The connector gateway hosted in-process (standalone mode) on a real Postgres.

Postgres comes from SCENARIST_POSTGRES_DSN or `deploy/infra.sh up postgres`; this session gets a
fresh database of its own (dropped at the end), so concurrent sessions on the same server never
see each other's rows. The orchestrator is not hosted, so tests put an authenticator built on an
in-memory IdentityStore into `shared`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import grpc
import pytest
from gateway_stack import Gateway, StartGateway, new_key
from pydantic import SecretStr
from scenarist_bus.local import LocalBus
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.memory import MemoryIdentityStore

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
    name = f"scn_gw_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def start_gateway(
    database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartGateway]:
    """Start a gateway with the given keys; every one started is shut down after the test.
    Gateways started one after another share the identity store, like restarts of one host."""
    identity = MemoryIdentityStore()
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            key: str, key_id: str = "k1", previous: dict[str, str] | None = None
        ) -> Gateway:
            monkeypatch.setenv("SCENARIST_SECRETS_KEY", key)
            monkeypatch.setenv("SCENARIST_SECRETS_KEY_ID", key_id)
            monkeypatch.setenv("SCENARIST_SECRETS_PREVIOUS_KEYS", json.dumps(previous or {}))
            settings = ServiceSettings(
                service_name="connector_gateway",
                mode="standalone",
                postgres_dsn=SecretStr(database_dsn),
                grpc_port=0,
                http_port=0,
                drain_timeout_seconds=5,
            )
            lifecycle = Lifecycle(settings)
            stack.push_async_callback(lifecycle.shutdown)
            hosted = await start_host(
                ["connector_gateway"],
                settings,
                lifecycle,
                bus=LocalBus(),
                shared={"authenticator": identity},
            )
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}")
            stack.push_async_callback(channel.close, None)
            return Gateway(hosted, channel, identity, lifecycle)

        yield start


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Gateway:
    return await start_gateway(new_key())


@pytest.fixture
async def raw_db(database_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection for reading rows the way an attacker with a dump would."""
    conn = await asyncpg.connect(database_dsn)
    try:
        yield conn
    finally:
        await conn.close()
