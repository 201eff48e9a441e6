"""IML array functions: add, arrayDiff, arrayIntersect, deduplicate, first, flatten, join,
last, merge, remove, reverse, shuffle, slice.

Functions that look inside items by key (distinct, keys, map, sort, toArray, toCollection) live
in array_items.py; contains and length (text or array) in text_search.py.

Values compare strictly and deeply, as JavaScript's includes() would for primitives: 1 equals
1.0, but "1" does not equal 1.
"""

from __future__ import annotations

from typing import Any

from scenarist_engine.errors import ExpressionLimitError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import (
    any_text,
    array_arg,
    builtin,
    check_array,
    check_array_size,
    int_arg,
    text_arg,
    value_key,
)

CATEGORY = "array"


@builtin(
    "add",
    min_args=2,
    max_args=None,
    signature="add(array; value1; [value2; ...])",
    category=CATEGORY,
)
def add(ctx: EvalContext, array: Any, *values: Any) -> list[Any]:
    """The array with the values appended."""
    items = array_arg(array, "add")
    check_array_size(ctx, len(items) + len(values), "add")
    return [*items, *values]


@builtin(
    "merge", min_args=1, max_args=None, signature="merge(array1; array2; ...)", category=CATEGORY
)
def merge(ctx: EvalContext, *arrays: Any) -> list[Any]:
    """One array with the items of all the arrays, in order."""
    parts = [array_arg(array, "merge", f"argument {n}") for n, array in enumerate(arrays, 1)]
    check_array_size(ctx, sum(len(part) for part in parts), "merge")
    return [item for part in parts for item in part]


@builtin(
    "remove",
    min_args=2,
    max_args=None,
    signature="remove(array; value1; [value2; ...])",
    category=CATEGORY,
)
def remove(ctx: EvalContext, array: Any, *values: Any) -> list[Any]:
    """The array without any item equal to one of the values."""
    unwanted = {value_key(value) for value in values}
    return [item for item in array_arg(array, "remove") if value_key(item) not in unwanted]


@builtin(
    "arrayDiff", min_args=2, max_args=2, signature="arrayDiff(array1; array2)", category=CATEGORY
)
def array_diff(ctx: EvalContext, first_array: Any, second_array: Any) -> list[Any]:
    """Items of array1 that are not in array2, in array1's order."""
    other = {value_key(item) for item in array_arg(second_array, "arrayDiff", "array2")}
    items = array_arg(first_array, "arrayDiff", "array1")
    return [item for item in items if value_key(item) not in other]


@builtin(
    "arrayIntersect",
    min_args=2,
    max_args=2,
    signature="arrayIntersect(array1; array2)",
    category=CATEGORY,
)
def array_intersect(ctx: EvalContext, first_array: Any, second_array: Any) -> list[Any]:
    """Items of array1 that are also in array2, in array1's order."""
    other = {value_key(item) for item in array_arg(second_array, "arrayIntersect", "array2")}
    items = array_arg(first_array, "arrayIntersect", "array1")
    return [item for item in items if value_key(item) in other]


@builtin("deduplicate", min_args=1, max_args=1, signature="deduplicate(array)", category=CATEGORY)
def deduplicate(ctx: EvalContext, array: Any) -> list[Any]:
    """The array with repeated values removed; the first occurrence stays."""
    seen: set[Any] = set()
    result: list[Any] = []
    for item in array_arg(array, "deduplicate"):
        key = value_key(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


@builtin("first", min_args=1, max_args=1, signature="first(array)", category=CATEGORY)
def first(ctx: EvalContext, array: Any) -> Any:
    """The first item of an array, or null if it is empty."""
    items = array_arg(array, "first")
    return items[0] if items else None


@builtin("last", min_args=1, max_args=1, signature="last(array)", category=CATEGORY)
def last(ctx: EvalContext, array: Any) -> Any:
    """The last item of an array, or null if it is empty."""
    items = array_arg(array, "last")
    return items[-1] if items else None


@builtin("flatten", min_args=1, max_args=1, signature="flatten(array)", category=CATEGORY)
def flatten(ctx: EvalContext, array: Any) -> list[Any]:
    """Sub-arrays' items pulled up one level, like JavaScript's array.flat()."""
    items = array_arg(array, "flatten")
    size = sum(len(item) if isinstance(item, list) else 1 for item in items)
    check_array_size(ctx, size, "flatten")
    result: list[Any] = []
    for item in items:
        if isinstance(item, list):
            result.extend(item)
        else:
            result.append(item)
    return result


@builtin("join", min_args=1, max_args=2, signature="join(array; separator)", category=CATEGORY)
def join(ctx: EvalContext, array: Any, separator: Any = ",") -> str:
    """Items as text, joined by the separator; null items become empty text."""
    items = array_arg(array, "join")
    glue = text_arg(separator, "join", "separator")
    pieces = [any_text(item) for item in items]
    size = sum(len(piece) for piece in pieces) + len(glue) * max(len(pieces) - 1, 0)
    if size > ctx.limits.max_text_length:
        raise ExpressionLimitError(
            f"join(): result is longer than {ctx.limits.max_text_length} characters"
        )
    return glue.join(pieces)


@builtin("reverse", min_args=1, max_args=1, signature="reverse(array)", category=CATEGORY)
def reverse(ctx: EvalContext, array: Any) -> list[Any]:
    """The array in reverse order."""
    return list(reversed(array_arg(array, "reverse")))


@builtin("shuffle", min_args=1, max_args=1, signature="shuffle(array)", category=CATEGORY)
def shuffle(ctx: EvalContext, array: Any) -> list[Any]:
    """The array in random order (repeatable: it draws from the run's seeded generator)."""
    items = list(array_arg(array, "shuffle"))
    ctx.rng.shuffle(items)
    return items


@builtin("slice", min_args=2, max_args=3, signature="slice(array; start; [end])", category=CATEGORY)
def slice_(ctx: EvalContext, array: Any, start: Any, end: Any = None) -> list[Any]:
    """Items from start up to (not including) end, 0-based; negative counts from the end."""
    items = array_arg(array, "slice")
    begin = int_arg(start, "slice", "start")
    # Python's slice clamps and counts negatives from the end exactly as JavaScript's does.
    stop = len(items) if end is None else int_arg(end, "slice", "end")
    return check_array(ctx, items[begin:stop], "slice")
