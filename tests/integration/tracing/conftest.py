"""Real Postgres for the end-to-end trace test: SCENARIST_POSTGRES_DSN or `deploy/infra.sh up
postgres`, with a throwaway database per session so concurrent runs on one server never clash."""

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

INFRA = Path(__file__).resolve().parents[3] / "deploy" / "infra.sh"


def _server_dsn() -> str:
    if dsn := os.environ.get("SCENARIST_POSTGRES_DSN"):
        return dsn
    up = subprocess.run(
        [str(INFRA), "up", "postgres"], capture_output=True, text=True, timeout=300, check=False
    )
    if up.returncode != 0:
        pytest.fail(f"deploy/infra.sh up postgres failed: {up.stderr[-2000:]}")
    env = subprocess.run(
        [str(INFRA), "env"], capture_output=True, text=True, timeout=60, check=False
    )
    for line in env.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_POSTGRES_DSN="):
            return words[1].split("=", 1)[1]
    pytest.fail("deploy/infra.sh env printed no SCENARIST_POSTGRES_DSN")


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def trace_database_dsn() -> Iterator[str]:
    server = _server_dsn()
    name = f"scn_trace_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
