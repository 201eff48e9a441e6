"""All five services hosted in one process (standalone mode: in-process bus, real Postgres and
Redis), reached over a real gRPC channel, running app modules against local fake servers.

Postgres and Redis come from the root conftest (tests/conftest.py); the session gets a database of its own (dropped at the end). Each test starts its own stack
with the gateway settings it needs (`start_stack(**env)`), and its own organization.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from e2e_stack import Stack, StartStack
from pydantic import SecretStr
from scenarist_connector_sdk.testing import FakeHttpServer
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from support.infra import FreshDatabase

SERVICES = ["orchestrator", "executor", "trigger", "log", "connector_gateway"]


@pytest.fixture(scope="session")
def database_dsn(fresh_database: FreshDatabase) -> str:
    return fresh_database("apps")


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
