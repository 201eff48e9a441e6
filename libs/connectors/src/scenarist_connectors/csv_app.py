"""Make's CSV app: ``csv:ParseCSV`` (one bundle per row) and ``csv:CreateCSV``."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    Connector,
    FieldSpec,
    FieldType,
    InvalidInputError,
)

__all__ = ["connector"]

connector = Connector(AppSpec("csv", "1.0.0", "CSV", "Parse and create CSV text."))

_DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def _delimiter(value: Any) -> str:
    text = str(value or "comma")
    delimiter = _DELIMITERS.get(text, text)
    if len(delimiter) != 1:
        raise InvalidInputError(f"delimiter must be one character or {sorted(_DELIMITERS)}")
    return delimiter


@connector.search(
    "ParseCSV",
    label="Parse CSV",
    description="One bundle per row; with headers, keyed by column name, else col1, col2 ...",
    inputs=[
        FieldSpec("csv", FieldType.TEXT, "CSV", required=True),
        FieldSpec("containsHeaders", FieldType.BOOLEAN, "CSV contains headers", default=True),
        FieldSpec("delimiter", FieldType.TEXT, "Delimiter", default="comma"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum rows"),
    ],
    max_results=100_000,
)
async def parse_csv(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    reader = csv.reader(
        io.StringIO(str(inputs["csv"])), delimiter=_delimiter(inputs.get("delimiter"))
    )
    try:
        rows = iter(reader)
        header = next(rows, None) if inputs.get("containsHeaders") else None
        for row in rows:
            names = header or [f"col{i + 1}" for i in range(len(row))]
            yield {name: (row[i] if i < len(row) else "") for i, name in enumerate(names)}
    except csv.Error as exc:
        raise InvalidInputError(f"invalid CSV at line {reader.line_num}: {exc}") from exc


@connector.action(
    "CreateCSV",
    label="Create CSV",
    inputs=[
        FieldSpec("rows", FieldType.ARRAY, "Rows (collections)", required=True),
        FieldSpec("includeHeaders", FieldType.BOOLEAN, "Include headers", default=True),
        FieldSpec("delimiter", FieldType.TEXT, "Delimiter", default="comma"),
    ],
    outputs=[FieldSpec("text", FieldType.TEXT, "CSV", required=True)],
)
async def create_csv(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [row for row in inputs["rows"] if isinstance(row, Mapping)]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=_delimiter(inputs.get("delimiter")), lineterminator="\n")
    if inputs.get("includeHeaders"):
        writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return [{"text": out.getvalue()}]
