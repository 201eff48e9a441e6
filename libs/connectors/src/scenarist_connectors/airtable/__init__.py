"""Airtable (Web API v0): ``airtable:ListRecords`` (search) and ``airtable:CreateRecord``.

Lists come as ``{"records": [...], "offset": "..."}``; the next page repeats the query with
``offset``. Errors are ``{"error": {"type", "message"}}`` (or ``{"error": "NOT_FOUND"}``); a 429
asks for 30 seconds of quiet and usually carries no ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
)
from scenarist_connector_sdk.pagination import by_cursor

from scenarist_connectors._api import base_url, base_url_field, check

__all__ = ["connector"]

API = "https://api.airtable.com/v0"
RATE_LIMIT_WAIT = 30.0

connector = Connector(
    AppSpec(
        "airtable",
        "1.0.0",
        "Airtable",
        "List and create records.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "Personal access token",
                (
                    FieldSpec(
                        "token", FieldType.TEXT, "Token (pat...)", required=True, secret=True
                    ),
                    base_url_field(API),
                ),
            ),
        ),
    )
)

_TABLE = [
    FieldSpec("baseId", FieldType.TEXT, "Base ID (app...)", required=True),
    FieldSpec("table", FieldType.TEXT, "Table name or ID", required=True),
]
RECORD = [
    FieldSpec("id", FieldType.TEXT, "Record ID"),
    FieldSpec("createdTime", FieldType.DATE, "Created"),
    FieldSpec("fields", FieldType.COLLECTION, "Fields"),
]


def _message(body: Any) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', '')} {error.get('message', '')}".strip()
    return str(error or "")


def _table_url(ctx: ActionContext, inputs: dict[str, Any]) -> str:
    base, table = quote(str(inputs["baseId"]), safe=""), quote(str(inputs["table"]), safe="")
    return f"{base_url(ctx, API)}/{base}/{table}"


@connector.search(
    "ListRecords",
    label="Search records",
    connection_required=True,
    max_results=10000,
    inputs=[
        *_TABLE,
        FieldSpec("filterByFormula", FieldType.TEXT, "Formula"),
        FieldSpec("view", FieldType.TEXT, "View"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=RECORD,
)
async def list_records(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    url = _table_url(ctx, inputs)
    params = {"pageSize": "100"}
    for name in ("filterByFormula", "view"):
        if inputs.get(name):
            params[name] = str(inputs[name])

    async def page(offset: str | None) -> tuple[Sequence[Any], str | None]:
        query = {**params, "offset": offset} if offset else params
        response = await ctx.http.get(url, params=query)
        body = check(response, "Airtable", _message, retry_after=RATE_LIMIT_WAIT)
        return list(body.get("records") or []), body.get("offset") or None

    async for record in by_cursor(page):
        yield record


@connector.action(
    "CreateRecord",
    label="Create a record",
    connection_required=True,
    inputs=[
        *_TABLE,
        FieldSpec("fields", FieldType.COLLECTION, "Fields", required=True),
        FieldSpec("typecast", FieldType.BOOLEAN, "Smart links (typecast)", default=False),
    ],
    outputs=RECORD,
)
async def create_record(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload = {"records": [{"fields": dict(inputs["fields"])}], "typecast": inputs["typecast"]}
    response = await ctx.http.post(_table_url(ctx, inputs), json=payload)
    body = check(response, "Airtable", _message, retry_after=RATE_LIMIT_WAIT)
    return list(body.get("records") or [])
