"""Google Sheets (API v4): ``google-sheets:AddRow``, ``SearchRows`` and ``WatchRows``.

OAuth2 bearer (an authorization-code access token the gateway refreshes, or client credentials).
Errors are ``{"error": {"code", "message", "status"}}``; quota errors are 429
``RESOURCE_EXHAUSTED`` without ``Retry-After``, so a minute is assumed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    Option,
)
from scenarist_connector_sdk.auth import OAUTH2
from scenarist_connector_sdk.polling import poll_fields, poll_limit, poll_result, starts_now

from scenarist_connectors._api import base_url, base_url_field, check

__all__ = ["connector"]

API = "https://sheets.googleapis.com/v4"
QUOTA_WAIT = 60.0

connector = Connector(
    AppSpec(
        "google-sheets",
        "1.0.0",
        "Google Sheets",
        "Add, search and watch rows of a spreadsheet.",
        connection_types=(
            ConnectionTypeSpec("oauth2", "Google OAuth 2.0", (*OAUTH2.fields, base_url_field(API))),
        ),
    )
)

_SHEET = [
    FieldSpec("spreadsheetId", FieldType.TEXT, "Spreadsheet ID", required=True),
    FieldSpec("sheetName", FieldType.TEXT, "Sheet name", default="Sheet1"),
]
_RANGE = [
    FieldSpec("range", FieldType.TEXT, "Range (A1 notation)", default="A1:Z"),
    FieldSpec("containsHeaders", FieldType.BOOLEAN, "The first row holds headers", default=True),
]
ROW = [
    FieldSpec("rowNumber", FieldType.INTEGER, "Row number"),
    FieldSpec("values", FieldType.ARRAY, "Cell values"),
    FieldSpec("row", FieldType.COLLECTION, "Cells by header"),
]
OPERATORS = ("equal", "not_equal", "contains", "greater", "less")


def _message(body: Any) -> str:
    error = body.get("error") or {}
    return f"{error.get('status', '')} {error.get('message', '')}".strip()


def _values_url(ctx: ActionContext, inputs: dict[str, Any], cells: str) -> str:
    sheet = str(inputs.get("sheetName") or "Sheet1").replace("'", "''")
    target = quote(f"'{sheet}'!{cells}", safe="")
    return (
        f"{base_url(ctx, API)}/spreadsheets/{quote(str(inputs['spreadsheetId']))}/values/{target}"
    )


async def _read(ctx: ActionContext, inputs: dict[str, Any]) -> list[list[Any]]:
    url = _values_url(ctx, inputs, str(inputs.get("range") or "A1:Z"))
    response = await ctx.http.get(url, params={"majorDimension": "ROWS"})
    return list(
        check(response, "Google Sheets", _message, retry_after=QUOTA_WAIT).get("values") or []
    )


def _bundle(number: int, values: list[Any], headers: list[Any] | None) -> dict[str, Any]:
    names = headers or [_column(i) for i in range(len(values))]
    row = {str(name): values[i] if i < len(values) else "" for i, name in enumerate(names)}
    return {"rowNumber": number, "values": values, "row": row}


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


@connector.action(
    "AddRow",
    label="Add a row",
    description="spreadsheets.values.append after the sheet's last row.",
    connection_required=True,
    inputs=[
        *_SHEET,
        FieldSpec("values", FieldType.ARRAY, "Values (one per column)", required=True),
        FieldSpec(
            "valueInputOption",
            FieldType.SELECT,
            "Value input option",
            options=(Option("USER_ENTERED"), Option("RAW")),
            default="USER_ENTERED",
        ),
    ],
    outputs=[
        FieldSpec("spreadsheetId", FieldType.TEXT, "Spreadsheet ID"),
        FieldSpec("updatedRange", FieldType.TEXT, "Updated range"),
        FieldSpec("updatedRows", FieldType.INTEGER, "Updated rows"),
        FieldSpec("rowNumber", FieldType.INTEGER, "Row number"),
    ],
)
async def add_row(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    url = _values_url(ctx, inputs, "A1") + ":append"
    params = {
        "valueInputOption": str(inputs.get("valueInputOption") or "USER_ENTERED"),
        "insertDataOption": "INSERT_ROWS",
    }
    payload = {"majorDimension": "ROWS", "values": [list(inputs["values"])]}
    response = await ctx.http.post(url, params=params, json=payload)
    body = check(response, "Google Sheets", _message, retry_after=QUOTA_WAIT)
    updates = body.get("updates") or {}
    found = re.search(r"![A-Z]+(\d+)", str(updates.get("updatedRange") or ""))
    return [
        {
            "spreadsheetId": body.get("spreadsheetId"),
            "updatedRange": updates.get("updatedRange"),
            "updatedRows": updates.get("updatedRows"),
            "rowNumber": int(found.group(1)) if found else None,
        }
    ]


def _matches(cell: Any, operator: str, wanted: Any) -> bool:
    text, target = str(cell), str(wanted)
    if operator == "contains":
        return target.lower() in text.lower()
    if operator in ("greater", "less"):
        try:
            left, right = float(text), float(target)
        except ValueError:
            left, right = text, target  # type: ignore[assignment]
        return left > right if operator == "greater" else left < right
    return (text == target) is (operator == "equal")


@connector.search(
    "SearchRows",
    label="Search rows",
    description="spreadsheets.values.get, then rows whose column matches the filter.",
    connection_required=True,
    max_results=10000,
    inputs=[
        *_SHEET,
        *_RANGE,
        FieldSpec("column", FieldType.TEXT, "Filter column (header or letter)"),
        FieldSpec(
            "operator",
            FieldType.SELECT,
            "Operator",
            options=tuple(Option(o) for o in OPERATORS),
            default="equal",
        ),
        FieldSpec("value", FieldType.TEXT, "Value"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=ROW,
)
async def search_rows(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    rows = await _read(ctx, inputs)
    headers = rows[0] if inputs.get("containsHeaders", True) and rows else None
    start = 1 if headers else 0
    column = str(inputs.get("column") or "")
    operator = str(inputs.get("operator") or "equal")
    for offset, values in enumerate(rows[start:], start=start + 1):
        bundle = _bundle(offset, values, headers)
        cell = bundle["row"].get(column, _by_letter(values, column))
        if not column or _matches(cell if cell is not None else "", operator, inputs.get("value")):
            yield bundle


def _by_letter(values: list[Any], column: str) -> Any:
    for index in range(len(values)):
        if _column(index) == column.upper():
            return values[index]
    return None


@connector.trigger(
    "WatchRows",
    label="Watch rows",
    description="New rows at the end of a sheet; the cursor is the number of rows seen.",
    connection_required=True,
    inputs=poll_fields(*_SHEET, *_RANGE),
    outputs=ROW,
)
async def watch_rows(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    rows = await _read(ctx, inputs)
    if starts_now(inputs):
        return poll_result([], len(rows))
    headers = rows[0] if inputs.get("containsHeaders", True) and rows else None
    cursor = str(inputs.get("cursor") or "")
    seen = int(cursor) if cursor.isdigit() else (1 if headers else 0)
    fresh = rows[max(seen, 1 if headers else 0) :][: poll_limit(inputs)]
    first = max(seen, 1 if headers else 0) + 1
    bundles = [_bundle(first + i, values, headers) for i, values in enumerate(fresh)]
    return poll_result(bundles, first - 1 + len(fresh))
