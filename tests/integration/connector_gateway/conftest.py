"""The connector gateway hosted in-process (standalone mode) on a real Postgres.

Postgres comes from the root conftest (tests/conftest.py); this session gets a fresh database of
its own (dropped at the end), so concurrent sessions on the same server never see each other's
rows. The orchestrator is not hosted, so tests put an authenticator built on an
in-memory IdentityStore into `shared`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
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
from support.infra import FreshDatabase

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))  # the fakes package


@pytest.fixture(scope="session")
def database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("gw")


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
