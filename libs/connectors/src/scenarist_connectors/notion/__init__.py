"""Notion (API 2022-06-28): ``notion:CreatePage`` and ``notion:QueryDatabase`` (search).

Every call carries ``Notion-Version``. Lists are ``{"object": "list", "results", "next_cursor",
"has_more"}`` paged by POSTing ``start_cursor``. Errors are
``{"object": "error", "status", "code", "message"}``; 429 ``rate_limited`` has ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

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

API = "https://api.notion.com/v1"
VERSION = "2022-06-28"

connector = Connector(
    AppSpec(
        "notion",
        "1.0.0",
        "Notion",
        "Create pages and query databases.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "Internal integration secret",
                (
                    FieldSpec("token", FieldType.TEXT, "Secret", required=True, secret=True),
                    base_url_field(API),
                ),
            ),
        ),
    )
)

PAGE = [
    FieldSpec("id", FieldType.TEXT, "Page ID"),
    FieldSpec("url", FieldType.URL, "URL"),
    FieldSpec("created_time", FieldType.DATE, "Created"),
    FieldSpec("last_edited_time", FieldType.DATE, "Last edited"),
    FieldSpec("properties", FieldType.COLLECTION, "Properties"),
    FieldSpec("parent", FieldType.COLLECTION, "Parent"),
]
HEADERS = {"Notion-Version": VERSION}


def _message(body: Any) -> str:
    return f"{body.get('code', '')} {body.get('message', '')}".strip()


@connector.action(
    "CreatePage",
    label="Create a database item (page)",
    description="POST /pages with a database parent; properties in Notion's property format.",
    connection_required=True,
    inputs=[
        FieldSpec("databaseId", FieldType.TEXT, "Database ID", required=True),
        FieldSpec("properties", FieldType.COLLECTION, "Properties", required=True),
        FieldSpec("children", FieldType.ARRAY, "Content blocks"),
    ],
    outputs=PAGE,
)
async def create_page(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {
        "parent": {"database_id": str(inputs["databaseId"])},
        "properties": dict(inputs["properties"]),
    }
    if inputs.get("children"):
        payload["children"] = list(inputs["children"])
    response = await ctx.http.post(f"{base_url(ctx, API)}/pages", json=payload, headers=HEADERS)
    return [check(response, "Notion", _message)]


@connector.search(
    "QueryDatabase",
    label="Search objects (query a database)",
    connection_required=True,
    max_results=10000,
    inputs=[
        FieldSpec("databaseId", FieldType.TEXT, "Database ID", required=True),
        FieldSpec("filter", FieldType.COLLECTION, "Filter (Notion filter object)"),
        FieldSpec("sorts", FieldType.ARRAY, "Sorts"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=PAGE,
)
async def query_database(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    url = f"{base_url(ctx, API)}/databases/{inputs['databaseId']}/query"
    query: dict[str, Any] = {"page_size": 100}
    if inputs.get("filter"):
        query["filter"] = inputs["filter"]
    if inputs.get("sorts"):
        query["sorts"] = inputs["sorts"]

    async def page(cursor: str | None) -> tuple[Sequence[Any], str | None]:
        payload = {**query, "start_cursor": cursor} if cursor else query
        body = check(await ctx.http.post(url, json=payload, headers=HEADERS), "Notion", _message)
        more = body.get("has_more") and body.get("next_cursor")
        return list(body.get("results") or []), str(more) if more else None

    async for item in by_cursor(page):
        yield item
