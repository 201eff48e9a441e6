"""PostgreSQL (the user's database): ``postgres:ExecuteQuery``, ``InsertRow``, ``WatchRows``.

The host the connection names is resolved and checked by the same guard as HTTP targets
(``ctx.http.guard``): private, loopback and metadata addresses are refused unless the
operator's allow list opens them, and asyncpg connects to the checked address, never to the
name again. TLS modes are ``disable`` and ``require`` (encrypted, certificate not verified,
libpq's meaning): verifying a certificate's host name would need the name, not the pinned IP.
"""

from __future__ import annotations

from typing import Any

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

from scenarist_connectors.postgres.database import connect, failures, row_bundle
from scenarist_connectors.postgres.values import from_text, quote_ident, quote_table

__all__ = ["connector"]

MAX_ROWS = 10000

connector = Connector(
    AppSpec(
        "postgres",
        "1.0.0",
        "PostgreSQL",
        "Query, insert and watch rows of your PostgreSQL database.",
        connection_types=(
            ConnectionTypeSpec(
                "basic",
                "PostgreSQL server",
                (
                    FieldSpec("host", FieldType.TEXT, "Host", required=True),
                    FieldSpec("port", FieldType.INTEGER, "Port", default=5432),
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

# A bundle is one row, keyed by column name: the columns are the user's, not known here.
_ROW: list[FieldSpec] = []


@connector.search(
    "ExecuteQuery",
    label="Execute a query",
    description="Any SQL with $1, $2 ... parameters; one bundle per returned row.",
    connection_required=True,
    max_results=MAX_ROWS,
    inputs=[
        FieldSpec("query", FieldType.TEXT, "Query", required=True),
        FieldSpec("parameters", FieldType.ARRAY, "Parameters ($1, $2 ...)"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of rows", default=1000),
    ],
    outputs=_ROW,
)
async def execute_query(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    limit = min(int(inputs.get("limit") or 1000), MAX_ROWS)
    async with connect(ctx) as conn, failures():
        statement = await conn.prepare(str(inputs["query"]))
        parameters = list(inputs.get("parameters") or [])
        if not statement.get_attributes():
            await statement.fetch(*parameters)
            return []
        # A cursor inside a transaction bounds what is read; a data-modifying statement still
        # runs whole (Postgres completes it on the first fetch) and commits.
        async with conn.transaction():
            cursor = await statement.cursor(*parameters)
            rows = await cursor.fetch(limit)
    return [row_bundle(row) for row in rows]


@connector.action(
    "InsertRow",
    label="Insert a row",
    connection_required=True,
    inputs=[
        FieldSpec("table", FieldType.TEXT, "Table (or schema.table)", required=True),
        FieldSpec("values", FieldType.COLLECTION, "Values by column", required=True),
    ],
    outputs=_ROW,
)
async def insert_row(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    values = dict(inputs["values"])
    columns = ", ".join(quote_ident(str(name)) for name in values)
    marks = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    sql = (
        f"INSERT INTO {quote_table(str(inputs['table']))} ({columns}) VALUES ({marks}) RETURNING *"  # noqa: S608 - identifiers quoted, values bound
    )
    async with connect(ctx) as conn, failures():
        row = await conn.fetchrow(sql, *values.values())
    return [row_bundle(row)] if row is not None else []


# A cursor of "*": polled while the table was empty; the next poll takes every row.
EMPTY = "*"


@connector.trigger(
    "WatchRows",
    label="Watch rows",
    description="New rows by an always-increasing column (a serial id or an insertion time); "
    "the cursor is the last emitted value as text.",
    connection_required=True,
    inputs=poll_fields(
        FieldSpec("table", FieldType.TEXT, "Table (or schema.table)", required=True),
        FieldSpec("column", FieldType.TEXT, "Increasing column", required=True),
    ),
    outputs=_ROW,
)
async def watch_rows(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    table, column = quote_table(str(inputs["table"])), quote_ident(str(inputs["column"]))
    cursor = str(inputs.get("cursor") or "")
    async with connect(ctx) as conn, failures():
        if starts_now(inputs):
            latest = await conn.fetchval(f"SELECT max({column})::text FROM {table}")  # noqa: S608
            return poll_result([], latest if latest is not None else EMPTY)
        order = f"ORDER BY {column} LIMIT {poll_limit(inputs, MAX_ROWS)}"
        if cursor in ("", EMPTY):
            rows = await conn.fetch(f"SELECT * FROM {table} {order}")  # noqa: S608
        else:
            statement = await conn.prepare(f"SELECT * FROM {table} WHERE {column} > $1 {order}")  # noqa: S608
            after = from_text(statement.get_parameters()[0].name, cursor)
            rows = await statement.fetch(after)
    if not rows:
        return poll_result([], cursor or EMPTY)
    last = row_bundle(rows[-1])[str(inputs["column"])]
    return poll_result([row_bundle(row) for row in rows], str(last))
