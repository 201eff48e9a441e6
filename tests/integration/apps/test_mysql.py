"""mysql:* against a real MariaDB from deploy/mysql/mysql.sh, in a throwaway database.

MariaDB is opt-in infrastructure: this module starts it with ``infra.sh up mysql`` when it is
not running and stops it again afterwards (unless SCENARIST_MYSQL_URL names a server to use).
"""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import aiomysql  # type: ignore[import-untyped]
import pytest
from scenarist_connector_sdk import BlockedTargetError, ConnectorRuntime, Registry, errors
from scenarist_connector_sdk.polling import read_poll_result
from scenarist_connectors.mysql import connector as mysql_app

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
INFRA, MYSQL = DEPLOY / "infra.sh", DEPLOY / "mysql" / "mysql.sh"


def _run(*command: Path | str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    args = [str(part) for part in command]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def server() -> Iterator[SplitResult]:
    if url := os.environ.get("SCENARIST_MYSQL_URL"):
        yield urlsplit(url)
        return
    started = _run(MYSQL, "status").returncode != 0
    if started:
        up = _run(INFRA, "up", "mysql", timeout=600)
        if up.returncode != 0:
            pytest.fail(f"infra.sh up mysql failed: {up.stderr[-2000:]}")
    try:
        yield urlsplit(_run(MYSQL, "url").stdout.strip())
    finally:
        if started:
            _run(INFRA, "down", "mysql", timeout=120)


@pytest.fixture
async def database(server: SplitResult) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    name = f"t{uuid.uuid4().hex[:12]}_userdb"
    admin = await aiomysql.connect(
        host=server.hostname,
        port=server.port,
        user=server.username,
        password=server.password or "",
        autocommit=True,
    )
    try:
        async with admin.cursor() as cursor:
            await cursor.execute(f"CREATE DATABASE {name}")
            await cursor.execute(
                f"CREATE TABLE {name}.orders (id INT AUTO_INCREMENT PRIMARY KEY,"
                " item VARCHAR(100) NOT NULL, amount DECIMAL(10,2),"
                " created DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6))"
            )
        connection = {
            "type": "basic",
            "parameters": {
                "host": server.hostname or "127.0.0.1",
                "port": str(server.port or 3306),
                "database": name,
                "username": server.username or "root",
                "ssl": "disable",
            },
            "secrets": {"password": server.password or ""},
        }
        yield name, connection
    finally:
        async with admin.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


async def _poll(runtime: ConnectorRuntime, conn: dict[str, Any], **inputs: Any) -> Any:
    return read_poll_result(await runtime.execute("mysql:WatchRows", inputs, conn))


async def test_insert_query_and_watch(
    runtime: ConnectorRuntime, database: tuple[str, dict[str, Any]]
) -> None:
    name, conn = database
    table = f"{name}.orders"
    start = await _poll(runtime, conn, table="orders", column="id")
    assert start.bundles == [] and start.cursor == "*"

    [row] = await runtime.execute(
        "mysql:InsertRow", {"table": table, "values": {"item": "tea", "amount": 2.5}}, conn
    )
    assert row == {"item": "tea", "amount": 2.5, "insertId": 1}
    await runtime.execute("mysql:InsertRow", {"table": "orders", "values": {"item": "cake"}}, conn)

    rows = await runtime.execute(
        "mysql:ExecuteQuery",
        {
            "query": "SELECT id, item, amount FROM orders WHERE item = %s OR id > %s ORDER BY id",
            "parameters": ["tea", 1],
        },
        conn,
    )
    assert rows == [
        {"id": 1, "item": "tea", "amount": 2.5},
        {"id": 2, "item": "cake", "amount": None},
    ]
    limited = await runtime.execute(
        "mysql:ExecuteQuery", {"query": "SELECT * FROM orders", "limit": 1}, conn
    )
    assert len(limited) == 1
    deleted = await runtime.execute(
        "mysql:ExecuteQuery", {"query": "DELETE FROM orders WHERE id = 99"}, conn
    )
    assert deleted == []

    first = await _poll(runtime, conn, table="orders", column="id", cursor=start.cursor, limit=1)
    assert [r["item"] for r in first.bundles] == ["tea"] and first.cursor == "1"
    second = await _poll(runtime, conn, table="orders", column="id", cursor=first.cursor)
    assert [r["item"] for r in second.bundles] == ["cake"] and second.cursor == "2"
    idle = await _poll(runtime, conn, table="orders", column="id", cursor=second.cursor)
    assert idle.bundles == [] and idle.cursor == "2"

    by_time = await _poll(runtime, conn, table=table, column="created", start="all")
    assert len(by_time.bundles) == 2 and by_time.bundles[0]["created"].startswith("20")
    again = await _poll(runtime, conn, table=table, column="created", cursor=by_time.cursor)
    assert again.bundles == []
    now = await _poll(runtime, conn, table=table, column="id")
    assert now.bundles == [] and now.cursor == "2"


async def test_errors_are_typed_and_never_show_the_password(
    runtime: ConnectorRuntime,
    database: tuple[str, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _, conn = database
    with pytest.raises(errors.InvalidInputError):
        await runtime.execute("mysql:ExecuteQuery", {"query": "SELEC nonsense"}, conn)
    with pytest.raises(errors.NotFoundError):
        await runtime.execute("mysql:InsertRow", {"table": "missing", "values": {"a": 1}}, conn)
    with pytest.raises(errors.NotFoundError):
        await runtime.execute("mysql:ExecuteQuery", {"query": "SELECT nope FROM orders"}, conn)
    with pytest.raises(errors.InvalidInputError):
        await runtime.execute(
            "mysql:InsertRow", {"table": "orders", "values": {"amount": 1}}, conn
        )  # item is NOT NULL
    with pytest.raises(errors.InvalidInputError):
        await runtime.execute("mysql:InsertRow", {"table": "a.b.c", "values": {"a": 1}}, conn)
    wrong_password = "not-the-password-4711"
    wrong = {**conn, "secrets": {"password": wrong_password}}
    with pytest.raises(errors.AuthError) as refused:
        await runtime.execute("mysql:ExecuteQuery", {"query": "SELECT 1"}, wrong)
    assert wrong_password not in str(refused.value) and wrong_password not in caplog.text
    assert conn["secrets"]["password"] not in caplog.text
    missing_db = {**conn, "parameters": {**conn["parameters"], "database": "no_such_db_x"}}
    with pytest.raises(errors.NotFoundError):
        await runtime.execute("mysql:ExecuteQuery", {"query": "SELECT 1"}, missing_db)


async def test_identifiers_are_quoted(
    runtime: ConnectorRuntime, database: tuple[str, dict[str, Any]]
) -> None:
    _, conn = database
    hostile = "orders` (item) VALUES ('x'); DROP TABLE orders; --"
    with pytest.raises(errors.NotFoundError):
        await runtime.execute("mysql:InsertRow", {"table": hostile, "values": {"item": 1}}, conn)
    assert (
        await runtime.execute("mysql:ExecuteQuery", {"query": "SELECT * FROM orders"}, conn) == []
    )


async def test_private_addresses_need_the_allow_list(
    database: tuple[str, dict[str, Any]],
) -> None:
    _, conn = database
    closed = ConnectorRuntime(Registry([mysql_app]))  # no allow list: loopback is refused
    try:
        with pytest.raises(BlockedTargetError):
            await closed.execute("mysql:ExecuteQuery", {"query": "SELECT 1"}, conn)
        metadata = {**conn, "parameters": {**conn["parameters"], "host": "169.254.169.254"}}
        with pytest.raises(BlockedTargetError):
            await closed.execute("mysql:ExecuteQuery", {"query": "SELECT 1"}, metadata)
    finally:
        await closed.aclose()
