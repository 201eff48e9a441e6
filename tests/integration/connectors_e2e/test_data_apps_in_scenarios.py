"""Database, email and file-format apps inside real scenarios, through the executor and the
gateway: PostgreSQL (a throwaway schema and login on the real Postgres), MySQL (a throwaway
database and login on the MariaDB of deploy/mysql), email (the SMTP sink of the fakes), CSV and
XML. Connections come from ConnectionService: the server's address as parameters, the password
as the secret. The last test greps every log line, gRPC response and run log for the passwords.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import SplitResult, urlsplit

import aiomysql  # type: ignore[import-untyped]
import asyncpg  # type: ignore[import-untyped]
import pytest
import pytest_asyncio
from app_scenarios import AppStack, aggregated, aggregator, app_module, module_stack, scenario
from data_servers import mysql_server
from fakes.smtp import SmtpSink
from scenarist.run.v1 import run_pb2

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SUCCESS = run_pb2.RunStatus.RUN_STATUS_SUCCESS
PG_PASSWORD = f"pg-{secrets.token_hex(8)}"
MYSQL_PASSWORD = f"my-{secrets.token_hex(8)}"
SMTP_PASSWORD = f"smtp-{secrets.token_hex(8)}"
SECRETS = [PG_PASSWORD, MYSQL_PASSWORD, SMTP_PASSWORD]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(database_dsn: str, redis_url: str) -> AsyncIterator[AppStack]:
    async with module_stack(database_dsn, redis_url) as hosted:
        yield hosted


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pg_login(postgres_server_dsn: str) -> AsyncIterator[dict[str, str]]:
    """A login of its own owning a schema of its own (both dropped after): what the app sees is
    exactly what a user's database would grant it."""
    name = f"t{uuid.uuid4().hex[:12]}_apps"
    admin = await asyncpg.connect(postgres_server_dsn)
    try:
        await admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{PG_PASSWORD}'")
        await admin.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
        await admin.execute(
            f"CREATE TABLE {name}.orders (id serial PRIMARY KEY, item text NOT NULL,"
            " amount numeric)"
        )
        await admin.execute(f"ALTER TABLE {name}.orders OWNER TO {name}")
        server = urlsplit(postgres_server_dsn)
        yield {
            "host": server.hostname or "127.0.0.1",
            "port": str(server.port or 5432),
            "database": server.path.lstrip("/") or "postgres",
            "username": name,
            "ssl": "disable",
        }
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await admin.execute(f"DROP ROLE IF EXISTS {name}")
        await admin.close()


@pytest.fixture(scope="module")
def mysql() -> Iterator[SplitResult]:
    with mysql_server() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mysql_login(mysql: SplitResult) -> AsyncIterator[dict[str, str]]:
    name = f"t{uuid.uuid4().hex[:12]}_apps"
    admin = await aiomysql.connect(
        host=mysql.hostname,
        port=mysql.port,
        user=mysql.username,
        password=mysql.password or "",
        autocommit=True,
    )
    try:
        async with admin.cursor() as cursor:
            await cursor.execute(f"CREATE DATABASE {name}")
            await cursor.execute(
                f"CREATE TABLE {name}.orders (id INT AUTO_INCREMENT PRIMARY KEY,"
                " item VARCHAR(100) NOT NULL)"
            )
            await cursor.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY '{MYSQL_PASSWORD}'")
            await cursor.execute(f"GRANT ALL ON {name}.* TO '{name}'@'%'")
        yield {
            "host": mysql.hostname or "127.0.0.1",
            "port": str(mysql.port or 3306),
            "database": name,
            "username": name,
            "ssl": "disable",
        }
    finally:
        async with admin.cursor() as cursor:
            await cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")
            await cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


def _database_scenario(app: str, table: str, conn: str, inserted: str) -> dict[str, Any]:
    """Insert one row per item (an iterator), read them back with a query (a search, so an
    implicit iterator) into an aggregator, then watch the table from its start."""
    query = f"SELECT id, item FROM {table} ORDER BY id"
    return scenario(
        f"{app} orders",
        app_module(2, "builtin:BasicFeeder", array="{{1.items}}"),
        app_module(3, f"{app}:InsertRow", conn, table=table, values={"item": "{{2.value}}"}),
        aggregator(4, 2, id=f"{{{{3.{inserted}}}}}"),
        app_module(5, f"{app}:ExecuteQuery", conn, query=query),
        aggregator(6, 5, id="{{5.id}}", item="{{5.item}}"),
        app_module(7, f"{app}:WatchRows", conn, table=table, column="id", start="all"),
    )


async def _orders_run(stack: AppStack, app: str, table: str, conn: str, inserted: str) -> None:
    document = _database_scenario(app, table, conn, inserted)
    run = await stack.run(document, {"items": ["tea", "cake"]})

    assert run.status == SUCCESS, run.error
    assert aggregated(await stack.bundles(run.id, 4)) == [{"id": 1}, {"id": 2}]
    assert aggregated(await stack.bundles(run.id, 6)) == [
        {"id": 1, "item": "tea"},
        {"id": 2, "item": "cake"},
    ]
    [watched] = await stack.bundles(run.id, 7)
    assert [row["item"] for row in watched["bundles"]] == ["tea", "cake"]
    assert watched["cursor"] == "2"


async def test_postgres_insert_query_watch(stack: AppStack, pg_login: dict[str, str]) -> None:
    conn = await stack.connection("postgres", "basic", {"password": PG_PASSWORD}, **pg_login)
    # PostgreSQL returns the inserted row (RETURNING *), MySQL the AUTO_INCREMENT id.
    await _orders_run(stack, "postgres", f"{pg_login['username']}.orders", conn, "id")


async def test_postgres_wrong_password_is_an_auth_error(
    stack: AppStack, pg_login: dict[str, str]
) -> None:
    wrong = await stack.connection("postgres", "basic", {"password": "not-it"}, **pg_login)
    document = scenario("login", app_module(2, "postgres:ExecuteQuery", wrong, query="SELECT 1"))
    run = await stack.run(document, {})
    assert run.status == run_pb2.RunStatus.RUN_STATUS_ERROR
    assert run.error.type == "AuthError", run.error
    [step] = await stack.steps(run.id, 2)
    assert step.error.type == "AuthError"


async def test_mysql_insert_query_watch(stack: AppStack, mysql_login: dict[str, str]) -> None:
    conn = await stack.connection("mysql", "basic", {"password": MYSQL_PASSWORD}, **mysql_login)
    await _orders_run(stack, "mysql", f"{mysql_login['database']}.orders", conn, "insertId")


async def test_email_over_smtp_with_a_login(stack: AppStack) -> None:
    async with SmtpSink(credentials=("mailer", SMTP_PASSWORD)) as sink:
        conn = await stack.connection(
            "email",
            "basic",
            {"password": SMTP_PASSWORD},
            host="127.0.0.1",
            port=str(sink.port),
            username="mailer",
            tls="none",
        )
        send = app_module(
            3,
            "email:SendEmail",
            conn,
            **{"from": "bot@example.com"},
            to=["{{2.email}}"],
            subject="Hello {{2.name}}",
            text="Your order shipped.",
        )
        document = scenario(
            "mailing",
            app_module(2, "builtin:BasicFeeder", array="{{1.people}}"),
            send,
            aggregator(4, 2, to="{{3.recipients}}"),
        )
        people = [{"name": "Ada", "email": "ada@example.com"}, {"name": "Alan", "email": "al@x.io"}]
        run = await stack.run(document, {"people": people})

        assert run.status == SUCCESS, run.error
        assert aggregated(await stack.bundles(run.id, 4)) == [
            {"to": ["ada@example.com"]},
            {"to": ["al@x.io"]},
        ]
        assert [m.rcpt_to for m in sink.received] == [["ada@example.com"], ["al@x.io"]]
        assert {m.login for m in sink.received} == {("mailer", SMTP_PASSWORD)}
        assert sorted(str(m.message()["Subject"]) for m in sink.received) == [
            "Hello Ada",
            "Hello Alan",
        ]


async def test_csv_and_xml_parse_and_create(stack: AppStack) -> None:
    document = scenario(
        "formats",
        app_module(2, "csv:ParseCSV", csv="{{1.csv}}"),  # one bundle per row
        aggregator(3, 2, name="{{2.name}}", age="{{2.age}}"),
        app_module(4, "csv:CreateCSV", rows="{{3.array}}"),
        app_module(5, "xml:CreateXML", data={"people": {"person": "{{3.array}}"}}),
        app_module(6, "xml:ParseXML", xml="{{5.xml}}"),
    )
    run = await stack.run(document, {"csv": "name,age\nAda,36\nAlan,41\n"})

    assert run.status == SUCCESS, run.error
    people = [{"name": "Ada", "age": "36"}, {"name": "Alan", "age": "41"}]
    assert aggregated(await stack.bundles(run.id, 3)) == people
    [created] = await stack.bundles(run.id, 4)
    # Columns in the collections' key order, which the stored document does not keep.
    assert list(csv.DictReader(io.StringIO(created["text"]))) == people
    [parsed] = await stack.bundles(run.id, 6)
    assert parsed["data"]["people"]["person"] == people


async def test_no_password_in_any_log_line_api_response_or_run_log(stack: AppStack) -> None:
    assert any("services started" in line for line in stack.logs.lines)
    assert len(stack.run_logs) >= 5 and stack.responses.seen
    leaks = stack.leaks(SECRETS)
    assert not leaks, "\n\n".join(leaks)
