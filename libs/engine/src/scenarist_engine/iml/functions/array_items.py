"""IML array functions that look inside items by key: distinct, keys, map, sort, toArray,
toCollection.

Key arguments are dot paths into each item ("sender.name"); array indexes in them start at 1.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import (
    MISSING,
    any_text,
    array_arg,
    builtin,
    collection_arg,
    split_path,
    text_arg,
    value_key,
    walk_path,
)
from scenarist_engine.iml.values import to_text, type_name

CATEGORY = "array"

# sort's order argument: (descending, case-insensitive).
_ORDERS = {
    "asc": (False, False),
    "desc": (True, False),
    "asc ci": (False, True),
    "desc ci": (True, True),
}


@builtin("distinct", min_args=1, max_args=2, signature="distinct(array; [key])", category=CATEGORY)
def distinct(ctx: EvalContext, array: Any, key: Any = None) -> list[Any]:
    """The array without duplicates, or without items whose key repeats; the first stays."""
    path = None if key is None else split_path(key, "distinct")
    seen: set[Any] = set()
    result: list[Any] = []
    for item in array_arg(array, "distinct"):
        found = item if path is None else walk_path(item, path)
        identity = value_key(None if found is MISSING else found)
        if identity not in seen:
            seen.add(identity)
            result.append(item)
    return result


@builtin("keys", min_args=1, max_args=1, signature="keys(collection)", category=CATEGORY)
def keys(ctx: EvalContext, value: Any) -> list[str]:
    """The keys of a collection (for an array, its positions "0", "1", ... as in JavaScript)."""
    if isinstance(value, list):
        return [str(index) for index in range(len(value))]
    return list(collection_arg(value, "keys"))


def _allowed_values(values: Any) -> set[str]:
    if isinstance(values, list):
        return {any_text(value) for value in values}
    # Make takes the accepted values as comma-separated text: "image/png,image/jpeg".
    return {part.strip() for part in text_arg(values, "map", "filter values").split(",")}


@builtin(
    "map",
    min_args=2,
    max_args=4,
    signature="map(complexArray; key; [keyForFiltering]; [possibleValuesForFiltering])",
    category=CATEGORY,
)
def map_(
    ctx: EvalContext,
    array: Any,
    key: Any,
    filter_key: Any = None,
    filter_values: Any = None,
) -> list[Any]:
    """The key's value in every item, or only in items whose filter key has a listed value.

    The possible values are comma-separated text (or an array). Items without the key are
    skipped.
    """
    items = array_arg(array, "map")
    path = split_path(key, "map")
    filtering = filter_key is not None and filter_values is not None
    filter_path = split_path(filter_key, "map") if filtering else []
    allowed = _allowed_values(filter_values) if filtering else set()
    result: list[Any] = []
    for item in items:
        if filtering:
            candidate = walk_path(item, filter_path)
            if candidate is MISSING or any_text(candidate) not in allowed:
                continue
        found = walk_path(item, path)
        if found is not MISSING:
            result.append(found)
    return result


def _sort_key(value: Any, case_insensitive: bool) -> tuple[int, Any]:
    """Numbers (and dates) first, numerically; then text; then anything else; nulls last."""
    if value is None or value is MISSING:
        return (3, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float("-inf") if math.isnan(value) else value)  # NaN must not break ordering
    if isinstance(value, datetime):
        return (0, value.timestamp() * 1000)
    text = value if isinstance(value, str) else any_text(value)
    # Code-point order is case-sensitive with upper case first, as JavaScript compares.
    return (1 if isinstance(value, str) else 2, text.lower() if case_insensitive else text)


def _sort_arguments(order: Any, key: Any) -> tuple[bool, bool, list[str] | None]:
    """(descending, case-insensitive, key path); `sort(array; key)` may omit the order."""
    if order is None:
        return False, False, None if key is None else split_path(key, "sort")
    normalized = " ".join(text_arg(order, "sort", "order").lower().split())
    if normalized in _ORDERS:
        descending, case_insensitive = _ORDERS[normalized]
        return descending, case_insensitive, None if key is None else split_path(key, "sort")
    if key is None:
        return False, False, split_path(order, "sort")
    raise ExpressionError(
        f"sort(): order must be asc, desc, asc ci or desc ci, got {to_text(order)!r}"
    )


@builtin(
    "sort",
    min_args=1,
    max_args=3,
    signature="sort(array; [asc|desc|asc ci|desc ci]; [key])",
    category=CATEGORY,
)
def sort(ctx: EvalContext, array: Any, order: Any = None, key: Any = None) -> list[Any]:
    """The array sorted (ascending and case-sensitive by default), optionally by a key."""
    items = array_arg(array, "sort")
    descending, case_insensitive, path = _sort_arguments(order, key)

    def sort_key(item: Any) -> tuple[int, Any]:
        value = item if path is None else walk_path(item, path)
        return _sort_key(value, case_insensitive)

    # reverse=True keeps equal values in their original order, so desc is stable too.
    return sorted(items, key=sort_key, reverse=descending)


@builtin("toArray", min_args=1, max_args=1, signature="toArray(collection)", category=CATEGORY)
def to_array(ctx: EvalContext, value: Any) -> list[dict[str, Any]]:
    """A collection as an array of {key, value} items."""
    collection = collection_arg(value, "toArray")
    return [{"key": key, "value": item} for key, item in collection.items()]


@builtin(
    "toCollection",
    min_args=3,
    max_args=3,
    signature="toCollection(array; keyField; valueField)",
    category=CATEGORY,
)
def to_collection(ctx: EvalContext, array: Any, key_field: Any, value_field: Any) -> dict[str, Any]:
    """A collection whose keys and values come from each item's keyField and valueField.

    Items without a key are skipped.
    """
    key_path = split_path(key_field, "toCollection")
    value_path = split_path(value_field, "toCollection")
    result: dict[str, Any] = {}
    for index, item in enumerate(array_arg(array, "toCollection"), start=1):
        if not isinstance(item, dict):
            raise ExpressionError(
                f"toCollection(): item {index} must be a collection, got {type_name(item)}"
            )
        name = walk_path(item, key_path)
        if name is MISSING or name is None:
            continue
        found = walk_path(item, value_path)
        result[text_arg(name, "toCollection", "key")] = None if found is MISSING else found
    return result
