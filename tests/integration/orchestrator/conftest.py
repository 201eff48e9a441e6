"""The orchestrator and an executor hosted in-process (standalone mode: in-process bus, real
Postgres), reached over a real gRPC channel on 127.0.0.1.

Postgres comes from the root conftest (tests/conftest.py). The session gets its own freshly created database, dropped
at the end, so it never clashes with other test runs on the same server; each test starts its own
host (migrations are a no-op after the first) and its own organizations.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from orchestrator_support import Stack, Tenant, standalone_settings
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from support.infra import FreshDatabase


@pytest.fixture(scope="session")
def database_dsn(fresh_database: FreshDatabase) -> str:
    """A database of its own for this session, dropped at the end."""
    return fresh_database("orch")


async def _tenant(identity: PgIdentityStore, name: str) -> Tenant:
    org = await identity.create_organization(name)
    tokens = {role: (await identity.create_token(org.id, role, role.value))[1] for role in Role}
    return Tenant(org.id, tokens)


@pytest.fixture
async def stack(database_dsn: str) -> AsyncIterator[Stack]:
    settings = standalone_settings(database_dsn)
    lifecycle = Lifecycle(settings)
    try:
        hosted = await start_host(["orchestrator", "executor"], settings, lifecycle)
        identity = PgIdentityStore(hosted.host.pool)
        acme = await _tenant(identity, f"acme-{uuid.uuid4().hex[:6]}")
        globex = await _tenant(identity, f"globex-{uuid.uuid4().hex[:6]}")
        async with Stack.connect(hosted, acme, globex) as stack:
            yield stack
    finally:
        await lifecycle.shutdown()
