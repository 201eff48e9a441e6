"""The log service hosted in-process (standalone mode, LocalBus) on a real Postgres.

Postgres comes from the root conftest (tests/conftest.py); this session gets a fresh database of
its own (dropped at the end), so concurrent sessions on the same server never see each other's
rows. The orchestrator is not hosted, so tests put an authenticator built on an
in-memory IdentityStore into `shared`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from log_stack import LogStack
from pydantic import SecretStr
from scenarist_bus.local import LocalBus
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.memory import MemoryIdentityStore
from support.infra import FreshDatabase


@pytest.fixture(scope="session")
def database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("log")


@pytest.fixture
async def stack(database_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LogStack]:
    monkeypatch.setenv("SCENARIST_LOG_RETENTION_DAYS", "30")
    settings = ServiceSettings(
        service_name="log",
        mode="standalone",
        postgres_dsn=SecretStr(database_dsn),
        grpc_port=0,
        http_port=0,
        drain_timeout_seconds=5,
    )
    lifecycle = Lifecycle(settings)
    bus = LocalBus()
    identity = MemoryIdentityStore()
    try:
        hosted = await start_host(
            ["log"], settings, lifecycle, bus=bus, shared={"authenticator": identity}
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            yield LogStack(hosted, bus, identity, channel)
    finally:
        await lifecycle.shutdown()
