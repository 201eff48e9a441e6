"""Shared plumbing for the general, math, text and array functions.

Registration goes through `builtin`, which wraps every implementation so that a stray
Python exception on odd input (huge ints, deep nesting) surfaces as an ExpressionError
instead of a crash of the evaluator.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions.registry import FunctionImpl, iml_function
from scenarist_engine.iml.values import to_number_or_none, to_text, type_name

# Deeper than this is not real data; refusing keeps recursive helpers clear of Python's
# own recursion limit, which the evaluator's frames also use.
MAX_NESTING = 200

MISSING: Any = object()
"""What `walk_path` returns when a path does not exist (as opposed to an explicit null)."""


def builtin(
    name: str,
    *,
    min_args: int,
    max_args: int | None,
    signature: str,
    category: str,
) -> Callable[[FunctionImpl], FunctionImpl]:
    """Register an IML function whose Python failures become ExpressionErrors."""

    def register(impl: FunctionImpl) -> FunctionImpl:
        @functools.wraps(impl)
        def guarded(ctx: EvalContext, *args: Any) -> Any:
            try:
                return impl(ctx, *args)
            except ExpressionError:
                raise
            except (RecursionError, MemoryError) as exc:
                raise ExpressionLimitError(f"{name}(): value is too large or too deep") from exc
            except TimeoutError as exc:
                raise ExpressionLimitError(f"{name}(): took too long") from exc
            except OverflowError as exc:
                raise ExpressionError(f"{name}(): number is too large") from exc
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                # Last resort: an unanticipated input shape is still the user's data problem.
                raise ExpressionError(f"{name}(): invalid argument ({exc})") from exc

        return iml_function(
            name,
            min_args=min_args,
            max_args=max_args,
            signature=signature,
            category=category,
            description=_first_line(impl.__doc__),
        )(guarded)

    return register


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def check_text(ctx: EvalContext, text: str, fn: str) -> str:
    if len(text) > ctx.limits.max_text_length:
        raise ExpressionLimitError(
            f"{fn}(): result is longer than {ctx.limits.max_text_length} characters"
        )
    return text


def check_array_size(ctx: EvalContext, size: int, fn: str) -> None:
    if size > ctx.limits.max_array_length:
        raise ExpressionLimitError(
            f"{fn}(): result has more than {ctx.limits.max_array_length} items"
        )


def check_array(ctx: EvalContext, items: list[Any], fn: str) -> list[Any]:
    check_array_size(ctx, len(items), fn)
    return items


def text_arg(value: Any, fn: str, what: str = "text") -> str:
    """A scalar argument as text; arrays and collections are a type error, not ", "-joined."""
    if isinstance(value, list | dict):
        raise ExpressionError(f"{fn}(): {what} must be text, got {type_name(value)}")
    return to_text(value)


def any_text(value: Any) -> str:
    """to_text that reports absurd nesting as a limit instead of a RecursionError."""
    try:
        return to_text(value)
    except RecursionError as exc:
        raise ExpressionLimitError("value is nested too deeply to convert to text") from exc


def array_arg(value: Any, fn: str, what: str = "array") -> list[Any]:
    """An array argument; null (an unmapped field) counts as an empty array."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ExpressionError(f"{fn}(): {what} must be an array, got {type_name(value)}")


def collection_arg(value: Any, fn: str, what: str = "collection") -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise ExpressionError(f"{fn}(): {what} must be a collection, got {type_name(value)}")


def int_arg(value: Any, fn: str, what: str) -> int:
    """An integral argument (an index, a precision); fractions truncate as in JavaScript."""
    number = to_number_or_none(value) if not isinstance(value, bool) else None
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        raise ExpressionError(f"{fn}(): {what} must be a number, got {to_text(value)!r}")
    return int(number)


def value_key(value: Any, depth: int = 0) -> Hashable:
    """A hashable identity for deep, strict equality: 1 equals 1.0, "1" does not equal 1,
    and collections compare regardless of key order."""
    if depth > MAX_NESTING:
        raise ExpressionLimitError("value is nested too deeply to compare")
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return ("nan",)
        return ("num", value)
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, list):
        return ("array", tuple(value_key(item, depth + 1) for item in value))
    if isinstance(value, dict):
        items = ((str(key), value_key(item, depth + 1)) for key, item in value.items())
        return ("collection", frozenset(items))
    if isinstance(value, datetime):
        return ("date", value.isoformat())
    if isinstance(value, bytes | bytearray):
        return ("buffer", bytes(value))
    return ("other", repr(value))


def same_value(left: Any, right: Any) -> bool:
    return value_key(left) == value_key(right)


def split_path(path: Any, fn: str) -> list[str]:
    """A dot path ("items.1.sku", also "items[1].sku") as its segments."""
    if isinstance(path, bool) or not isinstance(path, str | int | float):
        raise ExpressionError(f"{fn}(): path must be text or a number, got {type_name(path)}")
    text = to_text(path).replace("[", ".").replace("]", "")
    return [segment for segment in text.split(".") if segment != ""]


def walk_path(value: Any, segments: list[str]) -> Any:
    """Follow dict keys and 1-based list indexes; MISSING when the path does not exist."""
    current = value
    for segment in segments:
        if isinstance(current, dict):
            if segment not in current:
                return MISSING
            current = current[segment]
        elif isinstance(current, list):
            if not (segment.isascii() and segment.isdigit()):
                return MISSING
            index = int(segment)
            if not 1 <= index <= len(current):
                return MISSING
            current = current[index - 1]
        else:
            return MISSING
    return current


def get_path(value: Any, path: Any, fn: str) -> Any:
    """The value at a dot path, or None when it does not exist."""
    found = walk_path(value, split_path(path, fn))
    return None if found is MISSING else found
