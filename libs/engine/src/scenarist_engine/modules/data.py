"""JSON and CSV text: parse, create, transform, and aggregate bundles into one document."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import to_json_compatible, to_text
from scenarist_engine.model import Module
from scenarist_engine.modules.base import ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.modules.registry import register

MAX_JSON_TEXT = 16_000_000
MAX_JSON_DEPTH = 200


def _parse_json(call: ModuleCall) -> ModuleOutput:
    text = to_text(call.inputs.get("json"))
    if len(text) > MAX_JSON_TEXT:
        raise ModuleError("JSON text is larger than 16 MB", ErrorType.DATA)
    try:
        # NaN and Infinity are not JSON (JavaScript's JSON.parse, which Make uses, refuses them).
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ModuleError(f"invalid JSON: {exc}", ErrorType.DATA) from exc
    _check_depth(value)
    # An array of collections becomes one bundle per item, as in Make.
    if isinstance(value, list):
        return ModuleOutput(bundles=[_as_bundle(item) for item in value])
    return ModuleOutput(bundles=[_as_bundle(value)])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _as_bundle(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ModuleError(f"JSON nested deeper than {MAX_JSON_DEPTH}", ErrorType.DATA)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _create_json(call: ModuleCall) -> ModuleOutput:
    data = call.inputs["data"] if "data" in call.inputs else dict(call.inputs)
    return ModuleOutput(bundles=[{"json": _dumps(data)}])


def _transform_json(call: ModuleCall) -> ModuleOutput:
    """Any value as JSON text; Make's mapper calls it `object` (`data` is read for older flows)."""
    if "object" in call.inputs:
        return ModuleOutput(bundles=[{"json": _dumps(call.inputs["object"])}])
    return _create_json(call)


def _dumps(value: Any) -> str:
    return json.dumps(to_json_compatible(value), ensure_ascii=False, separators=(",", ":"))


def _record(item: Any) -> Any:
    """An aggregated item without the iterator's bookkeeping (__IMTINDEX__, __IMTLENGTH__)."""
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if not str(k).startswith("__IMT")}
    return item


def _aggregate_json(module: Module, items: list[Any]) -> dict[str, Any]:
    """One JSON array of the mapped items (or of the feeder's bundles without a mapper)."""
    return {"json": _dumps([_record(item) for item in items])}


_CSV_DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


def _csv_delimiter(module: Module) -> str:
    raw = str(module.parameters.get("delimiter") or "comma")
    if raw == "other":
        raw = str(module.parameters.get("delimiterOther") or "")
    delimiter = _CSV_DELIMITERS.get(raw, raw)
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise ModuleError(f"CSV delimiter {raw!r} is not one character", ErrorType.DATA)
    return delimiter


def _aggregate_csv(module: Module, items: list[Any]) -> dict[str, Any]:
    """One CSV row per item; columns are every key seen, in first-seen order."""
    rows = [_record(item) if isinstance(item, dict) else {"value": item} for item in items]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=_csv_delimiter(module), lineterminator="\n")
    if module.parameters.get("includeHeaders", True) not in (False, "false"):
        writer.writerow(columns)
    for row in rows:
        writer.writerow([to_text(row.get(column)) for column in columns])
    return {"text": out.getvalue()}


for _kind in (
    ModuleKind("json:ParseJSON", Role.ACTION, _parse_json, True, "Parse JSON"),
    ModuleKind("json:CreateJSON", Role.ACTION, _create_json, True, "Create JSON"),
    ModuleKind("json:TransformToJSON", Role.ACTION, _transform_json, True, "Transform to JSON"),
    ModuleKind(
        "json:AggregateToJSON",
        Role.AGGREGATOR,
        title="Aggregate to JSON",
        aggregate=_aggregate_json,
    ),
    ModuleKind(
        "csv:AggregateToCSV", Role.AGGREGATOR, title="Aggregate to CSV", aggregate=_aggregate_csv
    ),
):
    register(_kind)
