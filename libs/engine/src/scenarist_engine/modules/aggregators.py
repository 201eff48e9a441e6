"""Array, text, numeric and table aggregators.

The state machine collects one item per bundle that reaches the aggregator (its mapper
evaluated on that bundle) and, once everything since the feeder is done, calls `aggregate`
with the items of one group to build the output bundle.
"""

from __future__ import annotations

import statistics
from typing import Any

from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import normalize_number, to_number_or_none, to_text
from scenarist_engine.model import Module
from scenarist_engine.modules.base import ModuleKind, Role
from scenarist_engine.modules.registry import register

_SEPARATORS = {"newline": "\n", "tab": "\t", "comma": ",", "semicolon": ";", "space": " "}


def _separator(module: Module, key: str, default: str) -> str:
    raw = module.parameters.get(key, default)
    if raw == "other":
        return str(module.parameters.get(f"{key}Other", ""))
    return _SEPARATORS.get(str(raw), str(raw))


def _array(module: Module, items: list[Any]) -> Any:
    return {"array": items}


def _text(module: Module, items: list[Any]) -> Any:
    separator = _separator(module, "rowSeparator", "newline")
    texts = [to_text(item.get("value") if isinstance(item, dict) else item) for item in items]
    return {"text": separator.join(texts)}


def _value(item: Any) -> float | int | None:
    return to_number_or_none(item.get("value") if isinstance(item, dict) else item)


def _numbers(items: list[Any]) -> list[float | int]:
    values = [_value(item) for item in items]
    return [value for value in values if value is not None]


_NUMERIC: dict[str, Any] = {
    "SUM": sum,
    "AVG": lambda values: statistics.fmean(values) if values else 0,
    "MIN": lambda values: min(values) if values else None,
    "MAX": lambda values: max(values) if values else None,
    "COUNT": len,
}


def _numeric(module: Module, items: list[Any]) -> Any:
    function = str(module.parameters.get("function", "SUM")).upper()
    compute = _NUMERIC.get(function)
    if compute is None:
        raise ModuleError(f"unknown aggregate function {function!r}", ErrorType.DATA)
    numbers = _numbers(items)
    result = len(items) if function == "COUNT" else compute(numbers)
    return {"result": normalize_number(result) if isinstance(result, int | float) else result}


def _table(module: Module, items: list[Any]) -> Any:
    columns = _separator(module, "columnSeparator", "tab")
    rows = _separator(module, "rowSeparator", "newline")
    lines = []
    for item in items:
        cells = item.get("value") if isinstance(item, dict) else item
        cells = cells if isinstance(cells, list) else [cells]
        lines.append(columns.join(to_text(cell) for cell in cells))
    return {"text": rows.join(lines)}


for _name, _function, _title, _aliases in (
    ("builtin:BasicAggregator", _array, "Array aggregator", ()),
    ("util:TextAggregator", _text, "Text aggregator", ()),
    ("util:NumericAggregator", _numeric, "Numeric aggregator", ("util:FunctionAggregator2",)),
    ("util:TableAggregator", _table, "Table aggregator", ("util:AggregateAggregator",)),
):
    register(
        ModuleKind(_name, Role.AGGREGATOR, title=_title, aliases=_aliases, aggregate=_function)
    )
