"""IML math functions: abs, average, ceil, floor, formatNumber, max, median, min,
parseNumber, round, stdevP, stdevS, sum, trunc."""

from __future__ import annotations

import decimal
import math
import statistics
from collections.abc import Callable
from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import builtin, check_text, int_arg, text_arg
from scenarist_engine.iml.values import normalize_number, to_number_or_none, to_text, type_name

CATEGORY = "math"
Number = int | float

# JavaScript's toFixed accepts 0..100 digits; more would only build huge strings.
MAX_DECIMALS = 100


def _number(value: Any, fn: str, what: str = "number") -> Number:
    if isinstance(value, list | dict):
        raise ExpressionError(f"{fn}(): {what} must be a number, got {type_name(value)}")
    number = to_number_or_none(value)
    if number is None:
        raise ExpressionError(f"{fn}(): {what} {to_text(value)!r} is not a valid number")
    return number


def _numbers(args: tuple[Any, ...], fn: str) -> list[Number]:
    """The numbers in `fn(array)` or `fn(v1; v2; ...)`; empty values are skipped."""
    numbers: list[Number] = []
    for arg in args:
        for item in arg if isinstance(arg, list) else [arg]:
            if item is None or item == "":
                continue
            numbers.append(_number(item, fn, "value"))
    return numbers


def _deviation(numbers: list[Number], ddof: int) -> float:
    # Plain formula rather than statistics.stdev, which rejects NaN instead of propagating it.
    mean = math.fsum(numbers) / len(numbers)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in numbers) / (len(numbers) - ddof))


def _unary(name: str, signature: str, op: Callable[[Number], Number], doc: str) -> None:
    def impl(ctx: EvalContext, value: Any) -> Number:
        number = _number(value, name)
        if isinstance(number, float) and not math.isfinite(number):
            return number
        return normalize_number(op(number))

    impl.__doc__ = doc
    builtin(name, min_args=1, max_args=1, signature=signature, category=CATEGORY)(impl)


def _js_round(number: Number) -> Number:
    # Math.round: halves go towards +infinity, so -2.5 -> -2 (Python's round() is banker's).
    floor = math.floor(number)
    return floor + 1 if number - floor >= 0.5 else floor


_unary("abs", "abs(number)", abs, "The absolute value of a number.")
_unary("ceil", "ceil(number)", math.ceil, "The smallest integer greater than or equal to a number.")
_unary("floor", "floor(number)", math.floor, "The largest integer less than or equal to a number.")
_unary("round", "round(number)", _js_round, "A number rounded to the nearest integer (.5 up).")


def _aggregate(
    name: str, signature: str, op: Callable[[list[Number]], Number | None], doc: str
) -> None:
    def impl(ctx: EvalContext, *args: Any) -> Number | None:
        result = op(_numbers(args, name))
        return None if result is None else normalize_number(result)

    impl.__doc__ = doc
    builtin(name, min_args=1, max_args=None, signature=signature, category=CATEGORY)(impl)


def _sum(numbers: list[Number]) -> Number:
    if all(isinstance(number, int) for number in numbers):
        return sum(numbers)
    return math.fsum(numbers)


def _average(numbers: list[Number]) -> Number | None:
    return math.fsum(numbers) / len(numbers) if numbers else None


def _median(numbers: list[Number]) -> Number | None:
    return statistics.median(numbers) if numbers else None


def _stdev_p(numbers: list[Number]) -> Number | None:
    return _deviation(numbers, 0) if numbers else None


def _stdev_s(numbers: list[Number]) -> Number | None:
    # The sample deviation needs two values; one value has no spread to estimate.
    return _deviation(numbers, 1) if len(numbers) > 1 else None


_aggregate("sum", "sum([array] | value1; value2; ...)", _sum, "The sum of the values.")
_aggregate("average", "average([array] | value1; value2; ...)", _average, "The mean of the values.")
_aggregate("median", "median([array] | value1; value2; ...)", _median, "The median value.")
_aggregate(
    "max",
    "max([array] | value1; value2; ...)",
    lambda ns: max(ns, default=None),
    "The largest of the values.",
)
_aggregate(
    "min",
    "min([array] | value1; value2; ...)",
    lambda ns: min(ns, default=None),
    "The smallest of the values.",
)
_aggregate(
    "stdevP",
    "stdevP([array] | value1; value2; ...)",
    _stdev_p,
    "The population standard deviation of the values.",
)
_aggregate(
    "stdevS",
    "stdevS([array] | value1; value2; ...)",
    _stdev_s,
    "The sample standard deviation of the values.",
)


def _decimal(number: Number, fn: str) -> decimal.Decimal:
    if isinstance(number, float) and not math.isfinite(number):
        raise ExpressionError(f"{fn}(): cannot use {to_text(number)}")
    # repr gives the shortest text that round-trips, so 1.005 is 1.005, not 1.00499999…
    return decimal.Decimal(repr(number) if isinstance(number, float) else number)


def _quantize(value: decimal.Decimal, places: int, rounding: str) -> decimal.Decimal:
    digits = len(value.as_tuple().digits) + abs(places) + 2
    with decimal.localcontext(prec=max(digits, 28)) as context:
        context.rounding = rounding
        return value.quantize(decimal.Decimal(1).scaleb(-places))


def _separator(value: Any, fn: str, default: str) -> str:
    return default if value is None else text_arg(value, fn, "separator")


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


@builtin(
    "formatNumber",
    min_args=2,
    max_args=4,
    signature="formatNumber(number; decimalPoints; [decimalSeparator]; [thousandsSeparator])",
    category=CATEGORY,
)
def format_number(
    ctx: EvalContext,
    value: Any,
    decimal_points: Any,
    decimal_separator: Any = None,
    thousands_separator: Any = None,
) -> str:
    """A number as text with fixed decimals; separators default to "," and "."."""
    places = int_arg(decimal_points, "formatNumber", "decimalPoints")
    if not 0 <= places <= MAX_DECIMALS:
        raise ExpressionError(f"formatNumber(): decimalPoints must be 0..{MAX_DECIMALS}")
    point = _separator(decimal_separator, "formatNumber", ",")
    thousands = _separator(thousands_separator, "formatNumber", ".")
    exact = _decimal(_number(value, "formatNumber"), "formatNumber")
    fixed = _quantize(exact, places, decimal.ROUND_HALF_UP)
    text = f"{abs(fixed):f}"
    whole, _, fraction = text.partition(".")
    sign = "-" if fixed < 0 else ""
    result = sign + _group(whole, thousands) + (point + fraction if places else "")
    return check_text(ctx, result, "formatNumber")


@builtin(
    "parseNumber",
    min_args=1,
    max_args=2,
    signature="parseNumber(text; decimalSeparator)",
    category=CATEGORY,
)
def parse_number(ctx: EvalContext, value: Any, decimal_separator: Any = None) -> Number:
    """A number read from text written with the given decimal separator ("1 756 456,98")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = text_arg(value, "parseNumber").strip()
    point = "." if decimal_separator in (None, "") else text_arg(decimal_separator, "parseNumber")
    kept: list[str] = []
    for char in text.replace(point, "\x00"):
        if char.isspace() or char in ".,'’_":
            continue  # thousands separators, whatever the locale uses
        kept.append("." if char == "\x00" else char)
    number = to_number_or_none("".join(kept))
    if number is None or not kept:
        raise ExpressionError(f"parseNumber(): {text!r} is not a valid number")
    return normalize_number(number)


@builtin("trunc", min_args=1, max_args=2, signature="trunc(number; [precision])", category=CATEGORY)
def trunc(ctx: EvalContext, value: Any, precision: Any = None) -> Number:
    """A number cut to the given decimal places (0 by default), without rounding."""
    number = _number(value, "trunc")
    places = 0 if precision is None else int_arg(precision, "trunc", "precision")
    if isinstance(number, float) and not math.isfinite(number):
        return number
    if abs(places) > MAX_DECIMALS:
        raise ExpressionError(f"trunc(): precision must be -{MAX_DECIMALS}..{MAX_DECIMALS}")
    cut = _quantize(_decimal(number, "trunc"), places, decimal.ROUND_DOWN)
    if places <= 0 or isinstance(number, int):
        return int(cut)
    return normalize_number(float(cut))
