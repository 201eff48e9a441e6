from __future__ import annotations

from typing import Any

import pytest
from fakes import google_sheets as sheets
from scenarist_connector_sdk import ConnectorRuntime, errors
from scenarist_connector_sdk.polling import read_poll_result

pytestmark = pytest.mark.integration

SHEET = {"spreadsheetId": sheets.SPREADSHEET, "sheetName": "Sheet1"}


def oauth2(base_url: str, token: str = sheets.ACCESS_TOKEN) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "parameters": {"grant_type": "authorization_code", "base_url": base_url},
        "secrets": {"access_token": token},
    }


async def test_add_search_and_watch_rows(runtime: ConnectorRuntime) -> None:
    rows: list[list[Any]] = [["Name", "Age"], ["Ada", "36"], ["Alan", "41"]]
    with sheets.server(rows) as fake:
        conn = oauth2(f"{fake.url}/v4")
        start = read_poll_result(await runtime.execute("google-sheets:WatchRows", SHEET, conn))
        assert start.bundles == [] and start.cursor == "3"

        [added] = await runtime.execute(
            "google-sheets:AddRow", {**SHEET, "values": ["Grace", "85"]}, conn
        )
        assert added["rowNumber"] == 4 and added["updatedRows"] == 1

        found = await runtime.execute(
            "google-sheets:SearchRows",
            {**SHEET, "column": "Age", "operator": "greater", "value": "40"},
            conn,
        )
        assert [(b["rowNumber"], b["row"]["Name"]) for b in found] == [(3, "Alan"), (4, "Grace")]
        by_letter = await runtime.execute(
            "google-sheets:SearchRows", {**SHEET, "column": "A", "value": "Ada"}, conn
        )
        assert [b["rowNumber"] for b in by_letter] == [2]

        new = read_poll_result(
            await runtime.execute(
                "google-sheets:WatchRows", {**SHEET, "cursor": start.cursor}, conn
            )
        )
        assert [b["row"] for b in new.bundles] == [{"Name": "Grace", "Age": "85"}]
        assert new.cursor == "4"
        everything = read_poll_result(
            await runtime.execute(
                "google-sheets:WatchRows", {**SHEET, "start": "all", "limit": 2}, conn
            )
        )
        assert [b["rowNumber"] for b in everything.bundles] == [2, 3] and everything.cursor == "3"

        with pytest.raises(errors.RateLimitError) as quota:
            await runtime.execute("google-sheets:SearchRows", {**SHEET, "sheetName": "Quota"}, conn)
        assert quota.value.retry_after == 60
        with pytest.raises(errors.NotFoundError):
            await runtime.execute("google-sheets:SearchRows", {"spreadsheetId": "nope"}, conn)
        with pytest.raises(errors.AuthError, match="UNAUTHENTICATED"):
            await runtime.execute("google-sheets:SearchRows", SHEET, oauth2(f"{fake.url}/v4", "x"))
