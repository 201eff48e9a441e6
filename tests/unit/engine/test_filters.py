from __future__ import annotations

from typing import Any

import pytest
from scenarist_engine import filters
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.filters import OPERATORS, evaluate_condition, evaluate_filter
from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.model.scenario import Condition, Filter

BUNDLE = {
    "email": "Ada@Example.com",
    "name": "Ada Lovelace",
    "amount": 142.5,
    "count": "7",
    "vip": True,
    "blank": "",
    "nothing": None,
    "tags": ["Red", "green", 3],
    "empty": [],
    "created": "2024-03-01T10:00:00Z",
    "opens": "09:30",
}

T, F = True, False

# (operator, a, b, expected): every code appears with a true and a false case.
CASES: list[tuple[str, Any, Any, bool]] = [
    ("exist", "{{1.email}}", None, T),
    ("exist", "{{1.missing}}", None, F),
    ("exist", "{{1.blank}}", None, F),
    ("exist", "{{1.nothing}}", None, F),
    ("notexist", "{{1.missing}}", None, T),
    ("notexist", "{{1.email}}", None, F),
    ("boolean:equal", "{{1.vip}}", "true", T),
    ("boolean:equal", "{{1.vip}}", "false", F),
    ("boolean:notequal", "{{1.vip}}", "false", T),
    ("boolean:notequal", "{{1.vip}}", "true", F),
    ("text:equal", "{{1.email}}", "Ada@Example.com", T),
    ("text:equal", "{{1.email}}", "ada@example.com", F),
    ("text:equal:ci", "{{1.email}}", "ada@EXAMPLE.com", T),
    ("text:equal:ci", "{{1.email}}", "bob@example.com", F),
    ("text:notequal", "{{1.email}}", "ada@example.com", T),
    ("text:notequal", "{{1.email}}", "Ada@Example.com", F),
    ("text:notequal:ci", "{{1.email}}", "bob@example.com", T),
    ("text:notequal:ci", "{{1.email}}", "ADA@example.COM", F),
    ("text:contain", "{{1.name}}", "Love", T),
    ("text:contain", "{{1.name}}", "love", F),
    ("text:contain:ci", "{{1.name}}", "LOVE", T),
    ("text:contain:ci", "{{1.name}}", "babbage", F),
    ("text:notcontain", "{{1.name}}", "love", T),
    ("text:notcontain", "{{1.name}}", "Love", F),
    ("text:notcontain:ci", "{{1.name}}", "babbage", T),
    ("text:notcontain:ci", "{{1.name}}", "LOVE", F),
    ("text:startwith", "{{1.name}}", "Ada", T),
    ("text:startwith", "{{1.name}}", "ada", F),
    ("text:startwith:ci", "{{1.name}}", "ada", T),
    ("text:startwith:ci", "{{1.name}}", "love", F),
    ("text:notstartwith", "{{1.name}}", "ada", T),
    ("text:notstartwith", "{{1.name}}", "Ada", F),
    ("text:notstartwith:ci", "{{1.name}}", "love", T),
    ("text:notstartwith:ci", "{{1.name}}", "ADA", F),
    ("text:endwith", "{{1.email}}", ".com", T),
    ("text:endwith", "{{1.email}}", ".COM", F),
    ("text:endwith:ci", "{{1.email}}", "@EXAMPLE.COM", T),
    ("text:endwith:ci", "{{1.email}}", ".org", F),
    ("text:notendwith", "{{1.email}}", ".COM", T),
    ("text:notendwith", "{{1.email}}", ".com", F),
    ("text:notendwith:ci", "{{1.email}}", ".org", T),
    ("text:notendwith:ci", "{{1.email}}", "EXAMPLE.COM", F),
    ("text:pattern", "{{1.email}}", "^[A-Z][a-z]+@", T),
    ("text:pattern", "{{1.email}}", "^[a-z]+@", F),
    ("text:pattern:ci", "{{1.email}}", "^[a-z]+@example", T),
    ("text:pattern:ci", "{{1.email}}", "^bob", F),
    ("text:notpattern", "{{1.email}}", "^[a-z]+@", T),
    ("text:notpattern", "{{1.email}}", "Example", F),
    ("text:notpattern:ci", "{{1.email}}", "^bob", T),
    ("text:notpattern:ci", "{{1.email}}", "^ADA", F),
    ("number:equal", "{{1.count}}", "7", T),
    ("number:equal", "{{1.amount}}", "142", F),
    ("number:notequal", "{{1.amount}}", "142", T),
    ("number:notequal", "{{1.count}}", "7.0", F),
    ("number:less", "{{1.count}}", "10", T),
    ("number:less", "{{1.amount}}", "100", F),
    ("number:greater", "{{1.amount}}", "100", T),
    ("number:greater", "{{1.count}}", "10", F),
    ("number:lessorequal", "{{1.count}}", "7", T),
    ("number:lessorequal", "{{1.count}}", "6", F),
    ("number:greaterorequal", "{{1.count}}", "7", T),
    ("number:greaterorequal", "{{1.count}}", "8", F),
    ("date:equal", "{{1.created}}", "2024-03-01T11:00:00+01:00", T),
    ("date:equal", "{{1.created}}", "2024-03-02T10:00:00Z", F),
    ("date:notequal", "{{1.created}}", "2024-03-02T10:00:00Z", T),
    ("date:notequal", "{{1.created}}", "2024-03-01T10:00:00Z", F),
    ("date:less", "{{1.created}}", "2024-03-02T00:00:00Z", T),
    ("date:less", "{{1.created}}", "2024-02-01T00:00:00Z", F),
    ("date:greater", "{{1.created}}", "2024-02-01T00:00:00Z", T),
    ("date:greater", "{{1.created}}", "2024-03-02T00:00:00Z", F),
    ("date:lessorequal", "{{1.created}}", "2024-03-01T10:00:00Z", T),
    ("date:lessorequal", "{{1.created}}", "2024-03-01T09:59:59Z", F),
    ("date:greaterorequal", "{{1.created}}", "2024-03-01T10:00:00Z", T),
    ("date:greaterorequal", "{{1.created}}", "2024-03-01T10:00:01Z", F),
    ("time:equal", "{{1.opens}}", "09:30", T),
    ("time:equal", "{{1.opens}}", "10:30", F),
    ("time:notequal", "{{1.opens}}", "10:30", T),
    ("time:notequal", "{{1.opens}}", "09:30:00", F),
    ("time:less", "{{1.opens}}", "10:00", T),
    ("time:less", "{{1.opens}}", "09:00", F),
    ("time:greater", "{{1.opens}}", "09:00", T),
    ("time:greater", "{{1.opens}}", "10:00", F),
    ("time:lessorequal", "{{1.opens}}", "09:30", T),
    ("time:lessorequal", "{{1.opens}}", "09:29", F),
    ("time:greaterorequal", "{{1.opens}}", "09:30", T),
    ("time:greaterorequal", "{{1.opens}}", "09:31", F),
    ("array:contain", "{{1.tags}}", "Red", T),
    ("array:contain", "{{1.tags}}", "red", F),
    ("array:contain", "{{1.tags}}", "3", T),
    ("array:contain:ci", "{{1.tags}}", "RED", T),
    ("array:contain:ci", "{{1.tags}}", "blue", F),
    ("array:notcontain", "{{1.tags}}", "red", T),
    ("array:notcontain", "{{1.tags}}", "green", F),
    ("array:notcontain:ci", "{{1.tags}}", "blue", T),
    ("array:notcontain:ci", "{{1.tags}}", "GREEN", F),
    ("array:equal", "{{1.tags}}", "3", T),
    ("array:equal", "{{1.empty}}", "1", F),
    ("array:notequal", "{{1.empty}}", "1", T),
    ("array:notequal", "{{1.tags}}", "3", F),
    ("array:less", "{{1.tags}}", "4", T),
    ("array:less", "{{1.tags}}", "3", F),
    ("array:greater", "{{1.tags}}", "2", T),
    ("array:greater", "{{1.empty}}", "0", F),
    ("array:lessorequal", "{{1.empty}}", "0", T),
    ("array:lessorequal", "{{1.tags}}", "2", F),
    ("array:greaterorequal", "{{1.tags}}", "3", T),
    ("array:greaterorequal", "{{1.tags}}", "4", F),
]


@pytest.fixture
def ctx() -> EvalContext:
    return EvalContext(bundles={1: BUNDLE})


def _cond(operator: str, a: Any, b: Any = None) -> Condition:
    return Condition(a=a, o=operator, b=b)


@pytest.mark.parametrize(("operator", "a", "b", "expected"), CASES)
def test_operator(ctx: EvalContext, operator: str, a: Any, b: Any, expected: bool) -> None:
    assert evaluate_condition(_cond(operator, a, b), ctx) is expected


def test_every_operator_code_is_covered_both_ways() -> None:
    outcomes: dict[str, set[bool]] = {}
    for operator, _a, _b, expected in CASES:
        outcomes.setdefault(operator, set()).add(expected)
    assert set(outcomes) == OPERATORS
    assert all(seen == {True, False} for seen in outcomes.values())


def test_operator_list_matches_make() -> None:
    text = ["equal", "contain", "startwith", "endwith", "pattern"]
    codes = {f"text:{p}{n}{ci}" for p in ("", "not") for n in text for ci in ("", ":ci")}
    ordered = ["equal", "notequal", "less", "greater", "lessorequal", "greaterorequal"]
    codes |= {f"{kind}:{name}" for kind in ("number", "date", "time", "array") for name in ordered}
    codes |= {"exist", "notexist", "boolean:equal", "boolean:notequal"}
    codes |= {f"array:{n}contain{ci}" for n in ("", "not") for ci in ("", ":ci")}
    assert codes == OPERATORS
    assert len(OPERATORS) == 52


@pytest.mark.parametrize(
    "operator",
    [f"number:{name}" for name in ("equal", "notequal", "less", "greater")]
    + ["date:equal", "date:notequal", "time:less", "array:equal", "array:notequal"],
)
def test_unreadable_operands_make_the_condition_false(ctx: EvalContext, operator: str) -> None:
    assert evaluate_condition(_cond(operator, "{{1.name}}", "abc"), ctx) is False
    assert evaluate_condition(_cond(operator, "{{1.tags}}", "abc"), ctx) is False


def test_nan_is_not_a_number(ctx: EvalContext) -> None:
    assert evaluate_condition(_cond("number:equal", float("nan"), float("nan")), ctx) is False


def test_non_string_operands_are_used_as_is(ctx: EvalContext) -> None:
    assert evaluate_condition(_cond("number:greater", 10, 2), ctx) is True
    assert evaluate_condition(_cond("array:contain", ["a", "b"], "b"), ctx) is True
    assert evaluate_condition(_cond("array:equal", None, 0), ctx) is True


def test_array_operators_on_a_single_value(ctx: EvalContext) -> None:
    assert evaluate_condition(_cond("array:contain", "{{1.email}}", "Ada@Example.com"), ctx)
    assert evaluate_condition(_cond("array:equal", "{{1.missing}}", "0"), ctx)


def test_exist_ignores_b(ctx: EvalContext) -> None:
    assert evaluate_condition(_cond("exist", "{{1.email}}", "{{1.missing.deeper}}"), ctx)


def test_unknown_operator_raises(ctx: EvalContext) -> None:
    with pytest.raises(ExpressionError, match="unknown filter operator"):
        evaluate_condition(_cond("text:like", "a", "b"), ctx)


def test_invalid_expression_names_the_operand(ctx: EvalContext) -> None:
    with pytest.raises(ExpressionError) as excinfo:
        evaluate_condition(_cond("text:equal", "x", "{{lower(}}"), ctx)
    assert excinfo.value.field == "b"


def test_missing_and_empty_filters_pass(ctx: EvalContext) -> None:
    assert evaluate_filter(None, ctx) is True
    assert evaluate_filter(Filter(), ctx) is True
    assert evaluate_filter(Filter(name="empty", conditions=[]), ctx) is True


def test_and_within_a_group_or_across_groups(ctx: EvalContext) -> None:
    yes = _cond("exist", "{{1.email}}")
    no = _cond("exist", "{{1.missing}}")
    assert evaluate_filter(Filter(conditions=[[yes, yes]]), ctx) is True
    assert evaluate_filter(Filter(conditions=[[yes, no]]), ctx) is False
    assert evaluate_filter(Filter(conditions=[[yes, no], [no]]), ctx) is False
    assert evaluate_filter(Filter(conditions=[[yes, no], [no], [yes]]), ctx) is True
    assert evaluate_filter(Filter(conditions=[[no], [yes, yes]]), ctx) is True


def test_or_short_circuits_before_an_invalid_condition(ctx: EvalContext) -> None:
    yes = _cond("exist", "{{1.email}}")
    broken = _cond("text:like", "a", "b")
    assert evaluate_filter(Filter(conditions=[[yes], [broken]]), ctx) is True
    with pytest.raises(ExpressionError):
        evaluate_filter(Filter(conditions=[[broken], [yes]]), ctx)


def test_filter_on_a_missing_bundle(ctx: EvalContext) -> None:
    condition = _cond("notexist", "{{7.anything}}")
    assert evaluate_filter(Filter(conditions=[[condition]]), ctx) is True


def test_pattern_uses_the_regex_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str, bool, float]] = []

    def fake_search(pattern: str, text: str, *, ignore_case: bool = False, timeout: float) -> bool:
        calls.append((pattern, text, ignore_case, timeout))
        return True

    monkeypatch.setattr(filters, "search", fake_search)
    ctx = EvalContext(bundles={1: {"s": "abc"}}, limits=Limits(regex_timeout_seconds=0.05))
    assert evaluate_condition(_cond("text:pattern:ci", "{{1.s}}", "^A"), ctx) is True
    assert evaluate_condition(_cond("text:notpattern", "{{1.s}}", "^a"), ctx) is False
    assert calls == [("^A", "abc", True, 0.05), ("^a", "abc", False, 0.05)]


def test_regex_limit_errors_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(pattern: str, text: str, *, ignore_case: bool = False, timeout: float) -> bool:
        raise ExpressionLimitError("regular expression took too long")

    monkeypatch.setattr(filters, "search", slow)
    with pytest.raises(ExpressionLimitError):
        evaluate_condition(_cond("text:pattern", "x", "(a+)+$"), EvalContext())
