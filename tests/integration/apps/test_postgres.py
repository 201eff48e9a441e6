"""postgres:* against the real Postgres of tests/conftest.py, in a throwaway schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from scenarist_connector_sdk import BlockedTargetError, ConnectorRuntime, Registry, errors
from scenarist_connector_sdk.polling import read_poll_result
from scenarist_connectors.postgres import connector as postgres_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema(postgres_server_dsn: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    dsn = postgres_server_dsn
    name = f"t{uuid.uuid4().hex[:12]}_userdb"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        await admin.execute(
            f"CREATE TABLE {name}.orders (id serial PRIMARY KEY, item text NOT NULL,"
            " amount numeric, created timestamptz DEFAULT now())"
        )
        parts = urlsplit(dsn)
        connection = {
            "type": "basic",
            "parameters": {
                "host": parts.hostname or "127.0.0.1",
                "port": str(parts.port or 5432),
                "database": parts.path.lstrip("/") or "postgres",
                "username": parts.username or "postgres",
                "ssl": "disable",
            },
            "secrets": {"password": parts.password or ""},
        }
        yield name, connection
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await admin.close()


async def test_insert_query_and_watch(
    runtime: ConnectorRuntime, schema: tuple[str, dict[str, Any]]
) -> None:
    name, conn = schema
    table = f"{name}.orders"
    start = read_poll_result(
        await runtime.execute("postgres:WatchRows", {"table": table, "column": "id"}, conn)
    )
    assert start.bundles == [] and start.cursor == "*"

    [row] = await runtime.execute(
        "postgres:InsertRow", {"table": table, "values": {"item": "tea", "amount": 2.5}}, conn
    )
    assert row["id"] == 1 and row["item"] == "tea" and row["amount"] == 2.5
    await runtime.execute("postgres:InsertRow", {"table": table, "values": {"item": "cake"}}, conn)

    rows = await runtime.execute(
        "postgres:ExecuteQuery",
        {
            "query": f"SELECT id, item FROM {table} WHERE item = $1 OR id > $2",
            "parameters": ["tea", 1],
        },
        conn,
    )
    assert rows == [{"id": 1, "item": "tea"}, {"id": 2, "item": "cake"}]
    assert (
        len(
            await runtime.execute(
                "postgres:ExecuteQuery", {"query": f"SELECT * FROM {table}", "limit": 1}, conn
            )
        )
        == 1
    )
    assert (
        await runtime.execute(
            "postgres:ExecuteQuery", {"query": f"DELETE FROM {table} WHERE id = 99"}, conn
        )
        == []
    )

    first = read_poll_result(
        await runtime.execute(
            "postgres:WatchRows",
            {"table": table, "column": "id", "cursor": start.cursor, "limit": 1},
            conn,
        )
    )
    assert [r["item"] for r in first.bundles] == ["tea"] and first.cursor == "1"
    second = read_poll_result(
        await runtime.execute(
            "postgres:WatchRows", {"table": table, "column": "id", "cursor": first.cursor}, conn
        )
    )
    assert [r["item"] for r in second.bundles] == ["cake"] and second.cursor == "2"
    by_time = read_poll_result(
        await runtime.execute(
            "postgres:WatchRows", {"table": table, "column": "created", "start": "all"}, conn
        )
    )
    assert len(by_time.bundles) == 2
    again = read_poll_result(
        await runtime.execute(
            "postgres:WatchRows",
            {"table": table, "column": "created", "cursor": by_time.cursor},
            conn,
        )
    )
    assert again.bundles == []

    with pytest.raises(errors.InvalidInputError):
        await runtime.execute("postgres:ExecuteQuery", {"query": "SELEC nonsense"}, conn)
    with pytest.raises(errors.NotFoundError):
        await runtime.execute(
            "postgres:InsertRow", {"table": f"{name}.missing", "values": {"a": 1}}, conn
        )
    wrong = {**conn, "secrets": {"password": "not-the-password"}}
    if conn["secrets"]["password"]:
        with pytest.raises(errors.AuthError):
            await runtime.execute("postgres:ExecuteQuery", {"query": "SELECT 1"}, wrong)


async def test_private_addresses_need_the_allow_list(schema: tuple[str, dict[str, Any]]) -> None:
    _, conn = schema
    closed = ConnectorRuntime(Registry([postgres_app]))  # no allow list: loopback is refused
    try:
        with pytest.raises(BlockedTargetError):
            await closed.execute("postgres:ExecuteQuery", {"query": "SELECT 1"}, conn)
        metadata = {**conn, "parameters": {**conn["parameters"], "host": "169.254.169.254"}}
        with pytest.raises(BlockedTargetError):
            await closed.execute("postgres:ExecuteQuery", {"query": "SELECT 1"}, metadata)
    finally:
        await closed.aclose()
