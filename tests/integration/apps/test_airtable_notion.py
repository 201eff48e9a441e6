from __future__ import annotations

import pytest
from fakes import airtable, notion
from fakes.base import bearer_connection
from scenarist_connector_sdk import ConnectorRuntime, errors

pytestmark = pytest.mark.integration


async def test_airtable_list_and_create(runtime: ConnectorRuntime) -> None:
    with airtable.server() as fake:
        conn = bearer_connection(airtable.TOKEN, f"{fake.url}/v0")
        table = {"baseId": airtable.BASE, "table": "Tasks"}
        records = await runtime.execute("airtable:ListRecords", table, conn)
        assert [r["id"] for r in records] == ["rec1", "rec2", "rec3", "rec4", "rec5"]
        assert [r.query.get("offset") for r in fake.requests] == [None, ["itr2"], ["itr4"]]

        [created] = await runtime.execute(
            "airtable:CreateRecord", {**table, "fields": {"Name": "new"}}, conn
        )
        assert created["id"] == "rec6" and created["fields"] == {"Name": "new"}

        with pytest.raises(errors.InvalidInputError, match="UNKNOWN_FIELD_NAME"):
            await runtime.execute("airtable:CreateRecord", {**table, "fields": {"Bad": 1}}, conn)
        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute("airtable:ListRecords", {**table, "table": "Busy"}, conn)
        assert limited.value.retry_after == 30
        with pytest.raises(errors.NotFoundError):
            await runtime.execute("airtable:ListRecords", {**table, "table": "Gone"}, conn)


async def test_notion_create_and_query(runtime: ConnectorRuntime) -> None:
    with notion.server() as fake:
        conn = bearer_connection(notion.TOKEN, f"{fake.url}/v1")
        props = {"Name": {"title": [{"text": {"content": "Hello"}}]}}
        [page] = await runtime.execute(
            "notion:CreatePage", {"databaseId": notion.DATABASE, "properties": props}, conn
        )
        assert page["id"] == "page-6" and page["properties"] == props

        results = await runtime.execute(
            "notion:QueryDatabase", {"databaseId": notion.DATABASE}, conn
        )
        assert len(results) == 6
        cursors = [r.json().get("start_cursor") for r in fake.requests if r.path.endswith("/query")]
        assert cursors == [None, "2", "4"]

        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute("notion:QueryDatabase", {"databaseId": "busy"}, conn)
        assert limited.value.retry_after == 3
        with pytest.raises(errors.NotFoundError, match="object_not_found"):
            await runtime.execute(
                "notion:CreatePage", {"databaseId": "x", "properties": props}, conn
            )
        with pytest.raises(errors.AuthError, match="unauthorized"):
            await runtime.execute(
                "notion:QueryDatabase",
                {"databaseId": notion.DATABASE},
                bearer_connection("wrong", f"{fake.url}/v1"),
            )
