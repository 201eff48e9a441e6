"""IML's binary and unary operators on Make's value model.

Numbers follow JavaScript: integers beyond 2**53 become floats, so no operation can build
an unbounded Python int, and every result is normalized (2.0 -> 2).

`+` decides between addition and concatenation:
* null is the identity: `null + 5` is 5, `"a" + null` is "a", `null + null` is null;
* two numbers add; a number and numeric text add too (`1 + "2"` is 3);
* anything else concatenates as text (`"a" + 1` is "a1", `"1" + "2"` is "12",
  `true + 1` is "true1": booleans are not numbers here).
`-`, `*`, `/`, `%` need numbers (numeric text is read as a number); a non-number is an
error, null propagates (`null * 2` is null), and dividing by zero is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import Limits
from scenarist_engine.iml.values import (
    loose_equal,
    normalize_number,
    to_number_or_none,
    to_text,
    type_name,
)

Number = int | float
_EXACT = 2**53


def check_size(value: Any, limits: Limits, pos: int | None = None) -> Any:
    """`value`, unless it is text or an array beyond the configured limits."""
    if isinstance(value, str) and len(value) > limits.max_text_length:
        raise ExpressionLimitError(
            f"text result is longer than {limits.max_text_length} characters", position=pos
        )
    if isinstance(value, list) and len(value) > limits.max_array_length:
        raise ExpressionLimitError(
            f"array result has more than {limits.max_array_length} items", position=pos
        )
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(number: Number) -> Number:
    if isinstance(number, int) and abs(number) > _EXACT:
        try:
            return float(number)
        except OverflowError:
            return math.inf if number > 0 else -math.inf
    return number


def _operand(value: Any, op: str) -> Number:
    number = to_number_or_none(value)
    if number is None:
        shown = to_text(value) if not isinstance(value, list | dict) else type_name(value)
        if len(shown) > 50:
            shown = shown[:47] + "..."
        raise ExpressionError(f"operator '{op}' needs numbers, got {type_name(value)} {shown!r}")
    return _bounded(number)


def _result(number: Number) -> Number:
    return normalize_number(_bounded(number))


def add(left: Any, right: Any, limits: Limits) -> Any:
    if left is None:
        return right
    if right is None:
        return left
    if _is_number(left) and _is_number(right):
        return _result(_bounded(left) + _bounded(right))
    if (_is_number(left) and isinstance(right, str)) or (
        isinstance(left, str) and _is_number(right)
    ):
        left_number, right_number = to_number_or_none(left), to_number_or_none(right)
        if left_number is not None and right_number is not None:
            return _result(_bounded(left_number) + _bounded(right_number))
    left_text, right_text = to_text(left), to_text(right)
    if len(left_text) + len(right_text) > limits.max_text_length:
        raise ExpressionLimitError(
            f"text result is longer than {limits.max_text_length} characters"
        )
    return left_text + right_text


def _arithmetic(op: str, compute: Callable[[Number, Number], Number]) -> Callable[..., Any]:
    def apply(left: Any, right: Any, limits: Limits) -> Any:
        if left is None or right is None:
            return None
        a, b = _operand(left, op), _operand(right, op)
        try:
            return _result(compute(a, b))
        except (OverflowError, ValueError):
            return math.nan
        except ZeroDivisionError as exc:
            raise ExpressionError(f"division by zero in '{op}'") from exc

    return apply


def _divide(a: Number, b: Number) -> Number:
    if b == 0:
        raise ZeroDivisionError
    return a / b


def _remainder(a: Number, b: Number) -> Number:
    """JavaScript's %, whose sign follows the dividend (-7 % 3 is -1)."""
    if b == 0:
        raise ZeroDivisionError
    if isinstance(a, int) and isinstance(b, int):
        magnitude = abs(a) % abs(b)
        return magnitude if a >= 0 else -magnitude
    return math.fmod(a, b)


def negate(value: Any) -> Any:
    if value is None:
        return None
    return _result(-_operand(value, "-"))


def _ordering(left: Any, right: Any) -> tuple[Any, Any]:
    """Both sides as numbers when both read as numbers, else both as text."""
    left_number, right_number = to_number_or_none(left), to_number_or_none(right)
    if left_number is not None and right_number is not None:
        return left_number, right_number
    return to_text(left), to_text(right)


def _compare(test: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def apply(left: Any, right: Any, limits: Limits) -> bool:
        a, b = _ordering(left, right)
        return test(a, b)

    return apply


BINARY_OPERATORS: dict[str, Callable[[Any, Any, Limits], Any]] = {
    "+": add,
    "-": _arithmetic("-", lambda a, b: a - b),
    "*": _arithmetic("*", lambda a, b: a * b),
    "/": _arithmetic("/", _divide),
    "%": _arithmetic("%", _remainder),
    "=": lambda left, right, limits: loose_equal(left, right),
    "!=": lambda left, right, limits: not loose_equal(left, right),
    "<": _compare(lambda a, b: a < b),
    ">": _compare(lambda a, b: a > b),
    "<=": _compare(lambda a, b: a <= b),
    ">=": _compare(lambda a, b: a >= b),
}
