"""IML general functions: get, if, ifempty, switch, omit, pick, equal."""

from __future__ import annotations

from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import builtin, collection_arg, get_path, text_arg
from scenarist_engine.iml.values import is_empty, loose_equal, truthy, type_name

CATEGORY = "general"


@builtin("get", min_args=2, max_args=2, signature="get(object|array; path)", category=CATEGORY)
def get(ctx: EvalContext, value: Any, path: Any) -> Any:
    """Value at a dot path in a collection or array; array indexes start at 1."""
    if value is None:
        return None
    if not isinstance(value, dict | list):
        raise ExpressionError(
            f"get(): first argument must be a collection or an array, got {type_name(value)}"
        )
    return get_path(value, path, "get")


@builtin(
    "if", min_args=3, max_args=3, signature="if(expression; value1; value2)", category=CATEGORY
)
def if_(ctx: EvalContext, condition: Any, when_true: Any, when_false: Any) -> Any:
    """value1 if the expression is true, otherwise value2."""
    return when_true if truthy(condition) else when_false


@builtin("ifempty", min_args=2, max_args=2, signature="ifempty(value1; value2)", category=CATEGORY)
def ifempty(ctx: EvalContext, value: Any, fallback: Any) -> Any:
    """value1 unless it is empty (null or ""), otherwise value2; an empty array is kept."""
    return fallback if is_empty(value) else value


@builtin(
    "switch",
    min_args=3,
    max_args=None,
    signature="switch(expression; value1; result1; [value2; result2; ...]; [else])",
    category=CATEGORY,
)
def switch(ctx: EvalContext, expression: Any, *cases: Any) -> Any:
    """The result paired with the first value equal to the expression, else the last arg."""
    pairs = len(cases) // 2
    for index in range(pairs):
        if loose_equal(expression, cases[2 * index]):
            return cases[2 * index + 1]
    # An odd number of case arguments means the last one is the default.
    return cases[-1] if len(cases) % 2 == 1 else None


def _key_list(keys: tuple[Any, ...], fn: str) -> list[str]:
    names: list[str] = []
    for key in keys:
        # A mapped array of key names is as natural as listing them one by one.
        for item in key if isinstance(key, list) else [key]:
            names.append(text_arg(item, fn, "key"))
    return names


@builtin(
    "omit",
    min_args=2,
    max_args=None,
    signature="omit(collection; key1; [key2; ...])",
    category=CATEGORY,
)
def omit(ctx: EvalContext, collection: Any, *keys: Any) -> dict[str, Any]:
    """The collection without the given keys."""
    source = collection_arg(collection, "omit")
    dropped = set(_key_list(keys, "omit"))
    return {key: value for key, value in source.items() if key not in dropped}


@builtin(
    "pick",
    min_args=2,
    max_args=None,
    signature="pick(collection; key1; [key2; ...])",
    category=CATEGORY,
)
def pick(ctx: EvalContext, collection: Any, *keys: Any) -> dict[str, Any]:
    """A collection with only the given keys (those that exist), in the order given."""
    source = collection_arg(collection, "pick")
    return {key: source[key] for key in _key_list(keys, "pick") if key in source}


@builtin("equal", min_args=2, max_args=2, signature="equal(value1; value2)", category=CATEGORY)
def equal(ctx: EvalContext, left: Any, right: Any) -> bool:
    """Whether two values are equal, with the same loose rules as the `=` operator."""
    return loose_equal(left, right)
