"""MySQL and MariaDB (the user's database): ``mysql:ExecuteQuery``, ``InsertRow``, ``WatchRows``.

Like the PostgreSQL app: the connection's host is resolved and checked by the HTTP guard
(``ctx.http.guard``) and aiomysql connects to the checked address. Query parameters are the
driver's ``%s`` marks (write ``%%`` for a literal percent sign when parameters are given).
TLS is ``require`` (encrypted, certificate not verified: the name is not what we connect to)
or ``disable``.
"""

from __future__ import annotations

from typing import Any

import aiomysql  # type: ignore[import-untyped]
from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    Option,
)
from scenarist_connector_sdk.polling import poll_fields, poll_limit, poll_result, starts_now

from scenarist_connectors.mysql.database import (
    connect,
    cursor_text,
    failures,
    quote_ident,
    quote_table,
    row_bundle,
)

__all__ = ["connector"]

MAX_ROWS = 10000
# A cursor of "*": polled while the table was empty; the next poll takes every row.
EMPTY = "*"

connector = Connector(
    AppSpec(
        "mysql",
        "1.0.0",
        "MySQL",
        "Query, insert and watch rows of your MySQL or MariaDB database.",
        connection_types=(
            ConnectionTypeSpec(
                "basic",
                "MySQL server",
                (
                    FieldSpec("host", FieldType.TEXT, "Host", required=True),
                    FieldSpec("port", FieldType.INTEGER, "Port", default=3306),
                    FieldSpec("database", FieldType.TEXT, "Database", required=True),
                    FieldSpec("username", FieldType.TEXT, "User", required=True),
                    FieldSpec("password", FieldType.TEXT, "Password", secret=True),
                    FieldSpec(
                        "ssl",
                        FieldType.SELECT,
                        "TLS",
                        options=(Option("require"), Option("disable")),
                        default="require",
                    ),
                ),
            ),
        ),
    )
)

_ROW: list[FieldSpec] = []  # one bundle per row, keyed by the user's column names


@connector.search(
    "ExecuteQuery",
    label="Execute a query",
    description="Any SQL with %s parameters; one bundle per returned row.",
    connection_required=True,
    max_results=MAX_ROWS,
    inputs=[
        FieldSpec("query", FieldType.TEXT, "Query", required=True),
        FieldSpec("parameters", FieldType.ARRAY, "Parameters (%s, in order)"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of rows", default=1000),
    ],
    outputs=_ROW,
)
async def execute_query(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    limit = min(int(inputs.get("limit") or 1000), MAX_ROWS)
    parameters = list(inputs.get("parameters") or [])
    async with connect(ctx) as conn, failures():
        # An unbuffered cursor reads only `limit` rows; the rest is dropped with the connection.
        cursor = await conn.cursor(aiomysql.SSDictCursor)
        await cursor.execute(str(inputs["query"]), parameters or None)
        if cursor.description is None:
            return []
        rows = await cursor.fetchmany(limit)
    return [row_bundle(row) for row in rows]


@connector.action(
    "InsertRow",
    label="Insert a row",
    connection_required=True,
    inputs=[
        FieldSpec("table", FieldType.TEXT, "Table (or database.table)", required=True),
        FieldSpec("values", FieldType.COLLECTION, "Values by column", required=True),
    ],
    outputs=[FieldSpec("insertId", FieldType.INTEGER, "Insert ID (AUTO_INCREMENT)")],
)
async def insert_row(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    values = dict(inputs["values"])
    columns = ", ".join(quote_ident(str(name)) for name in values)
    marks = ", ".join(["%s"] * len(values))
    sql = f"INSERT INTO {quote_table(str(inputs['table']))} ({columns}) VALUES ({marks})"  # noqa: S608 - identifiers quoted, values bound
    async with connect(ctx) as conn, failures():
        cursor = await conn.cursor()
        await cursor.execute(sql, list(values.values()))
        insert_id = cursor.lastrowid
    return [{**row_bundle(values), "insertId": insert_id or None}]


@connector.trigger(
    "WatchRows",
    label="Watch rows",
    description="New rows by an always-increasing column (an AUTO_INCREMENT id or an insertion "
    "time); the cursor is the last emitted value as text.",
    connection_required=True,
    inputs=poll_fields(
        FieldSpec("table", FieldType.TEXT, "Table (or database.table)", required=True),
        FieldSpec("column", FieldType.TEXT, "Increasing column", required=True),
    ),
    outputs=_ROW,
)
async def watch_rows(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    table, column = quote_table(str(inputs["table"])), quote_ident(str(inputs["column"]))
    cursor_value = str(inputs.get("cursor") or "")
    async with connect(ctx) as conn, failures():
        cursor = await conn.cursor(aiomysql.DictCursor)
        if starts_now(inputs):
            await cursor.execute(f"SELECT MAX({column}) AS latest FROM {table}")  # noqa: S608
            latest = (await cursor.fetchone())["latest"]
            return poll_result([], cursor_text(latest) if latest is not None else EMPTY)
        order = f"ORDER BY {column} LIMIT {poll_limit(inputs, MAX_ROWS)}"
        if cursor_value in ("", EMPTY):
            await cursor.execute(f"SELECT * FROM {table} {order}")  # noqa: S608
        else:
            # The text cursor compares as the column's type (MySQL converts the literal).
            await cursor.execute(
                f"SELECT * FROM {table} WHERE {column} > %s {order}",  # noqa: S608
                [cursor_value],
            )
        rows = await cursor.fetchall()
    if not rows:
        return poll_result([], cursor_value or EMPTY)
    last = cursor_text(rows[-1][str(inputs["column"])])
    return poll_result([row_bundle(row) for row in rows], last)
