"""Migrations against a real Postgres: idempotent, safe when replicas start at once, and the
`python -m scenarist_storage.migrate` entry point."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from scenarist_storage.postgres import (
    SERVICE_SCHEMAS,
    bundled_migrations,
    create_pool,
    load_migrations,
    migrate,
)

pytestmark = [pytest.mark.contract, pytest.mark.integration]


def test_bundled_migrations_ship_with_the_package() -> None:
    for schema in SERVICE_SCHEMAS:
        files = load_migrations(bundled_migrations(schema))
        assert files and files[0].version == 1 and files[0].sql.strip()


async def test_concurrent_replicas_apply_each_migration_once(pg_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_table.sql").write_text("CREATE TABLE t (id integer PRIMARY KEY);")
    (tmp_path / "0002_row.sql").write_text("INSERT INTO t VALUES (1);")
    (tmp_path / "notes.txt").write_text("ignored")
    schema = f"t{uuid.uuid4().hex[:10]}_mig"
    pools = [await create_pool(pg_dsn, min_size=1, max_size=1) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(migrate(p, schema, tmp_path) for p in pools))
        assert sorted(applied) == [[], [], [], [1, 2]]
        assert await migrate(pools[0], schema, tmp_path) == []
        assert await pools[0].fetchval(f"SELECT count(*) FROM {schema}.t") == 1
        (tmp_path / "0003_more.sql").write_text("INSERT INTO t VALUES (2);")
        assert await migrate(pools[0], schema, tmp_path) == [3]
        versions = await pools[0].fetch(f"SELECT version FROM {schema}.schema_migrations")
        assert sorted(r["version"] for r in versions) == [1, 2, 3]
    finally:
        await pools[0].execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        for p in pools:
            await p.close()


async def test_a_failing_migration_changes_nothing(pg_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE t (id integer);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE u (id integer); SELECT 1/0;")
    schema = f"t{uuid.uuid4().hex[:10]}_mig"
    pool = await create_pool(pg_dsn, min_size=1, max_size=1)
    try:
        with pytest.raises(Exception, match="division by zero"):
            await migrate(pool, schema, tmp_path)
        tables = await pool.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        assert sorted(r["table_name"] for r in tables) == ["schema_migrations", "t"]
    finally:
        await pool.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


async def test_schema_names_are_validated(pg_dsn: str) -> None:
    pool = await create_pool(pg_dsn, min_size=1, max_size=1)
    try:
        with pytest.raises(ValueError):
            await migrate(pool, "x; DROP TABLE y", bundled_migrations("log"))
    finally:
        await pool.close()


def test_cli_migrates_every_service_schema(pg_dsn: str) -> None:
    # Applies the real schemas, as the Helm hook Job does; a second run is a no-op.
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "scenarist_storage.migrate", "--dsn", pg_dsn, "--all"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert all(f"{schema}:" in done.stdout for schema in SERVICE_SCHEMAS)
    assert "up to date" in done.stdout
