""" "Determine data structure": field names and types from a captured webhook body.

The result is the trigger's data-structure format (a list of `{name, type, required, multiple,
fields}`), shaped so the body it came from passes the trigger's own validation: nothing is
required (the user decides), text that looks like an e-mail, URL or date still becomes "text"
unless every sample agrees, and arrays of objects merge their items' fields.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_FIELDS", "structure_of"]

MAX_FIELDS = 500
MAX_DEPTH = 12


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "any"
    return "text"


def _field(name: str, values: list[Any], depth: int, budget: list[int]) -> dict[str, Any]:
    budget[0] -= 1
    present = [v for v in values if v is not None]
    found: dict[str, Any] = {
        "name": name,
        "type": "any",
        "required": False,
        "multiple": False,
        "fields": [],
    }
    if not present:
        return found
    if all(isinstance(v, dict) for v in present):
        found["type"] = "collection"
        found["fields"] = _fields(present, depth + 1, budget)
    elif all(isinstance(v, list) for v in present):
        items = [item for v in present for item in v]
        found["type"] = "array"
        if items and all(isinstance(i, dict) for i in items):
            found["fields"] = _fields(items, depth + 1, budget)
    else:
        kinds = {_scalar_type(v) for v in present}
        found["type"] = kinds.pop() if len(kinds) == 1 else "any"
    return found


def _fields(objects: list[dict[str, Any]], depth: int, budget: list[int]) -> list[dict[str, Any]]:
    if depth > MAX_DEPTH:
        return []
    names: list[str] = []
    for item in objects:
        names += [k for k in item if k not in names]
    found = []
    for name in names:
        if budget[0] <= 0:
            break
        found.append(_field(name, [o.get(name) for o in objects], depth, budget))
    return found


def structure_of(body: Any) -> list[dict[str, Any]]:
    """The data structure of a parsed body (an object; anything else has no named fields)."""
    if not isinstance(body, dict):
        return []
    return _fields([body], 1, [MAX_FIELDS])
