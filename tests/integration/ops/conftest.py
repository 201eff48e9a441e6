"""Real Postgres for the ops checks: SCENARIST_POSTGRES_DSN or `deploy/infra.sh up postgres`
(stopped again at the end only if this session started it), with a throwaway database per
session so concurrent test runs on the same server never clash."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "deploy" / "infra.sh"
POSTGRES_SH = REPO / "deploy" / "postgres" / "postgres.sh"


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def ops_admin_dsn() -> Iterator[str]:
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


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def ops_database_dsn(ops_admin_dsn: str) -> Iterator[str]:
    name = f"scn_ops_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(ops_admin_dsn, f"CREATE DATABASE {name}"))
    try:
        yield urlunsplit(urlsplit(ops_admin_dsn)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_admin(ops_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session")
def ops_redis_url() -> str:
    """SCENARIST_REDIS_URL or `deploy/infra.sh up redis` (left running, like make test does)."""
    if url := os.environ.get("SCENARIST_REDIS_URL"):
        return url
    up = _run(str(INFRA), "up", "redis", timeout=300)
    if up.returncode != 0:
        pytest.fail(f"deploy/infra.sh up redis failed: {up.stderr[-2000:]}")
    for line in _run(str(INFRA), "env", timeout=60).stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_REDIS_URL="):
            return words[1].split("=", 1)[1]
    pytest.fail("deploy/infra.sh env printed no SCENARIST_REDIS_URL")
