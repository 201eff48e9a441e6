"""The orchestrator and an executor hosted in-process (standalone mode: in-process bus, real
Postgres), reached over a real gRPC channel on 127.0.0.1.

Postgres comes from SCENARIST_POSTGRES_DSN or `deploy/infra.sh up postgres` (stopped again at the
end only if this session started it). The session gets its own freshly created database, dropped
at the end, so it never clashes with other test runs on the same server; each test starts its own
host (migrations are a no-op after the first) and its own organizations.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from orchestrator_support import Stack, Tenant, standalone_settings
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "deploy" / "infra.sh"
POSTGRES_SH = REPO / "deploy" / "postgres" / "postgres.sh"


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    if dsn := os.environ.get("SCENARIST_POSTGRES_DSN"):
        yield dsn
        return
    was_up = _run(str(POSTGRES_SH), "status", timeout=30).returncode == 0
    up = _run(str(INFRA), "up", "postgres", timeout=300)
    if up.returncode != 0:
        pytest.fail(f"deploy/infra.sh up postgres failed: {up.stderr[-2000:]}")
    found = None
    for line in _run(str(INFRA), "env", timeout=60).stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_POSTGRES_DSN="):
            found = words[1].split("=", 1)[1]
    if found is None:
        pytest.fail("deploy/infra.sh env printed no SCENARIST_POSTGRES_DSN")
    yield found
    if not was_up:
        _run(str(INFRA), "down", "postgres", timeout=120)


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_dsn(admin_dsn: str) -> Iterator[str]:
    """A database of its own for this session, dropped at the end."""
    name = f"scn_orch_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_dsn, f"CREATE DATABASE {name}"))
    try:
        yield _with_database(admin_dsn, name)
    finally:
        asyncio.run(_admin(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


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
