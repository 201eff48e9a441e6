"""Filter evaluation: Make's typed comparison operators over IML-evaluated operands.

A filter is OR-groups of AND-conditions. Each condition evaluates `a` and `b` as templates and
applies one operator from OPERATORS. Like Make, an operand that cannot be read as the
operator's type (a number, a date) makes the condition false instead of failing the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml import evaluate_template
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.datetimes import compare_dates, compare_times
from scenarist_engine.iml.regexes import search
from scenarist_engine.iml.values import is_empty, loose_equal, to_number_or_none, to_text, truthy
from scenarist_engine.model.scenario import Condition, Filter

Operator = Callable[[Any, Any, EvalContext], bool]
Comparison = Callable[[int], bool]

# The six ordered comparisons shared by number, date, time and array-length operators,
# each reading the sign of a three-way comparison.
_ORDERINGS: dict[str, Comparison] = {
    "equal": lambda sign: sign == 0,
    "notequal": lambda sign: sign != 0,
    "less": lambda sign: sign < 0,
    "greater": lambda sign: sign > 0,
    "lessorequal": lambda sign: sign <= 0,
    "greaterorequal": lambda sign: sign >= 0,
}


def evaluate_filter(filter: Filter | None, ctx: EvalContext) -> bool:
    """True when any AND-group passes; a missing or empty filter always passes."""
    if filter is None or not filter.conditions:
        return True
    return any(
        all(evaluate_condition(condition, ctx) for condition in group)
        for group in filter.conditions
    )


def evaluate_condition(cond: Condition, ctx: EvalContext) -> bool:
    """Evaluate one `a <o> b` condition."""
    operator = OPERATOR_TABLE.get(cond.o)
    if operator is None:
        raise ExpressionError(f"unknown filter operator {cond.o!r}", field="o")
    left = _operand(cond.a, ctx, "a")
    right = None if cond.o in _UNARY else _operand(cond.b, ctx, "b")
    return operator(left, right, ctx)


def _operand(value: Any, ctx: EvalContext, name: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return evaluate_template(value, ctx)
    except ExpressionError as error:
        raise error.in_field(name) from None


# --- basic and boolean -------------------------------------------------------------------


def _exist(left: Any, _right: Any, _ctx: EvalContext) -> bool:
    return not is_empty(left)


def _boolean_equal(left: Any, right: Any, _ctx: EvalContext) -> bool:
    return truthy(left) == truthy(right)


# --- text ------------------------------------------------------------------------------------


def _text_op(test: Callable[[str, str], bool], *, ci: bool) -> Operator:
    def apply(left: Any, right: Any, _ctx: EvalContext) -> bool:
        a, b = to_text(left), to_text(right)
        if ci:
            a, b = a.lower(), b.lower()
        return test(a, b)

    return apply


def _pattern(*, ci: bool) -> Operator:
    def apply(left: Any, right: Any, ctx: EvalContext) -> bool:
        return search(
            to_text(right),
            to_text(left),
            ignore_case=ci,
            timeout=ctx.limits.regex_timeout_seconds,
        )

    return apply


_TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "equal": lambda a, b: a == b,
    "contain": lambda a, b: b in a,
    "startwith": lambda a, b: a.startswith(b),
    "endwith": lambda a, b: a.endswith(b),
}


# --- number, date, time ------------------------------------------------------------------------


def _number_compare(left: Any, right: Any) -> int | None:
    a, b = to_number_or_none(left), to_number_or_none(right)
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return None
    return (a > b) - (a < b)


def _date_compare(left: Any, right: Any, ctx: EvalContext) -> int | None:
    return compare_dates(left, right, ctx.timezone)


def _time_compare(left: Any, right: Any, ctx: EvalContext) -> int | None:
    return compare_times(left, right, ctx.timezone)


def _ordered(compare: Callable[[Any, Any, EvalContext], int | None], test: Comparison) -> Operator:
    def apply(left: Any, right: Any, ctx: EvalContext) -> bool:
        sign = compare(left, right, ctx)
        return sign is not None and test(sign)

    return apply


# --- array -------------------------------------------------------------------------------------


def _as_array(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _array_contains(left: Any, right: Any, *, ci: bool) -> bool:
    items = _as_array(left)
    if not ci:
        return any(loose_equal(item, right) for item in items)
    wanted = to_text(right).lower()
    return any(to_text(item).lower() == wanted for item in items)


def _array_length_compare(left: Any, right: Any, _ctx: EvalContext) -> int | None:
    return _number_compare(len(_as_array(left)), right)


# --- the table ---------------------------------------------------------------------------------


def _negated(operator: Operator) -> Operator:
    def apply(left: Any, right: Any, ctx: EvalContext) -> bool:
        return not operator(left, right, ctx)

    return apply


def _text_operators() -> dict[str, Operator]:
    table: dict[str, Operator] = {}
    for suffix, ci in (("", False), (":ci", True)):
        for name, test in _TEXT_TESTS.items():
            positive = _text_op(test, ci=ci)
            table[f"text:{name}{suffix}"] = positive
            table[f"text:not{name}{suffix}"] = _negated(positive)
        table[f"text:pattern{suffix}"] = _pattern(ci=ci)
        table[f"text:notpattern{suffix}"] = _negated(_pattern(ci=ci))
    return table


def _number_compare_ctx(left: Any, right: Any, _ctx: EvalContext) -> int | None:
    return _number_compare(left, right)


def _ordered_operators() -> dict[str, Operator]:
    compares: dict[str, Callable[[Any, Any, EvalContext], int | None]] = {
        "number": _number_compare_ctx,
        "date": _date_compare,
        "time": _time_compare,
        "array": _array_length_compare,
    }
    return {
        f"{kind}:{name}": _ordered(compare, test)
        for kind, compare in compares.items()
        for name, test in _ORDERINGS.items()
    }


def _array_contain_operators() -> dict[str, Operator]:
    table: dict[str, Operator] = {}
    for suffix, ci in (("", False), (":ci", True)):

        def contains(left: Any, right: Any, _ctx: EvalContext, *, _ci: bool = ci) -> bool:
            return _array_contains(left, right, ci=_ci)

        table[f"array:contain{suffix}"] = contains
        table[f"array:notcontain{suffix}"] = _negated(contains)
    return table


OPERATOR_TABLE: dict[str, Operator] = {
    "exist": _exist,
    "notexist": _negated(_exist),
    "boolean:equal": _boolean_equal,
    "boolean:notequal": _negated(_boolean_equal),
    **_text_operators(),
    **_ordered_operators(),
    **_array_contain_operators(),
}

OPERATORS: frozenset[str] = frozenset(OPERATOR_TABLE)
_UNARY = frozenset({"exist", "notexist"})
