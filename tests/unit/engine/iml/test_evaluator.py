"""Evaluating IML expressions: references, operators, variables, calls and limits."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml import EvalContext, Limits, evaluate_template
from scenarist_engine.iml.functions.registry import FUNCTIONS, FunctionSpec

NOW = datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC)
BUNDLES: dict[int, Any] = {
    1: {
        "email": "ada@example.com",
        "amount": 21,
        "price": "19.5",
        "a": 20,
        "name": "Ada",
        "zero": 0,
        "empty": "",
        "nothing": None,
        "flag": True,
        "items": [
            {"sku": "x", "qty": 2, "tags": ["a", "b"]},
            {"sku": "y", "qty": 1, "tags": []},
            {"qty": 5},
        ],
        "Customer Name": "Grace",
        "data": {"name": "inner", "1": "one", "nested": {"deep": [10, 20, 30]}},
        "and": "key named and",
        "when": datetime(2024, 1, 1, tzinfo=UTC),
    },
    3: {"data": {"name": "three"}},
}

Register = Callable[..., None]


def make_ctx(**overrides: Any) -> EvalContext:
    options: dict[str, Any] = {
        "bundles": BUNDLES,
        "now": NOW,
        "execution_id": "exec-42",
        "seed": 7,
    }
    options.update(overrides)
    return EvalContext(**options)


def ev(expression: str, **overrides: Any) -> Any:
    return evaluate_template("{{" + expression + "}}", make_ctx(**overrides))


@pytest.fixture
def register() -> Iterator[Register]:
    """Registers throwaway functions in the shared table and removes them afterwards."""
    added: list[str] = []

    def add(
        name: str, impl: Callable[..., Any], min_args: int = 0, max_args: int | None = None
    ) -> None:
        assert name not in FUNCTIONS
        FUNCTIONS[name] = FunctionSpec(name, impl, min_args, max_args, f"{name}()", "test", "")
        added.append(name)

    yield add
    for name in added:
        FUNCTIONS.pop(name, None)


# --- references ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1.email", "ada@example.com"),
        ("3.data.name", "three"),
        ("1.data.nested.deep[2]", 20),
        ("1.items[1].sku", "x"),
        ("1.items[3].qty", 5),
        ("1.`Customer Name`", "Grace"),
        ("1.and", "key named and"),
        ("1.data.1", "one"),
        ("1.items.2.sku", "y"),
        ('1.data["name"]', "inner"),
        ("1.data[1]", "one"),
        ("1.items[1.items[2].qty].sku", "x"),
        ("1.items[(1 + 1)].sku", "y"),
        ('1.items["2"].sku', "y"),
        ("1.items[2.0].sku", "y"),
    ],
)
def test_references(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "1.missing",
        "1.missing.deeper.still",
        "2.anything",
        "99.x",
        "1.items[0].sku",
        "1.items[4].sku",
        "1.items[-1].sku",
        "1.items[1.5]",
        '1.items["x"]',
        "1.items[true]",
        "1.items[null]",
        "1.email.length",
        "1.amount.x",
        "1.items.sku",
        "1.nothing.x",
        "1.when.year",
        "1.items[3].sku",
        '"text".upper',
        "1.data[1.data]",
    ],
)
def test_missing_paths_are_null(expression: str) -> None:
    assert ev(expression) is None


def test_whole_bundle_and_bare_number() -> None:
    assert ev("`1`") is BUNDLES[1]
    assert ev("`3`.data.name") == "three"
    assert ev("1") == 1
    assert ev("`2`") is None


def test_projection() -> None:
    assert ev("1.items[].sku") == ["x", "y", None]
    assert ev("1.items[].tags") == [["a", "b"], [], None]
    assert ev("1.items[].tags[]") == [["a", "b"], [], None]
    assert ev("1.items[].tags[1]") == ["a", None, None]
    assert ev("1.items[]") == BUNDLES[1]["items"]
    assert ev("1.data[].name") is None
    assert ev("1.missing[].x") is None


def test_paths_work_on_function_results(register: Register) -> None:
    register("_t_items", lambda ctx: [{"a": 1}, {"a": 2}])
    assert ev("_t_items()[2].a") == 2
    assert ev("_t_items()[].a") == [1, 2]


# --- keywords and variables ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("emptystring", ""),
        ("emptyarray", []),
        ("space", " "),
        ("tab", "\t"),
        ("newline", "\n"),
        ("nbsp", "\u00a0"),
        ("carriagereturn", "\r"),
        ("pi", math.pi),
        ("now", NOW),
        ("timestamp", int(NOW.timestamp())),
        ("executionId", "exec-42"),
    ],
)
def test_keywords_and_variables(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


def test_emptyarray_is_fresh_each_time() -> None:
    first, second = ev("emptyarray"), ev("emptyarray")
    first.append(1)
    assert second == []


def test_random_and_uuid_are_deterministic_per_seed() -> None:
    expected = random.Random(7).random()
    assert ev("random") == expected
    ctx = make_ctx()
    first = evaluate_template("{{uuid}}", ctx)
    second = evaluate_template("{{uuid}}", ctx)
    assert first != second
    assert evaluate_template("{{uuid}}", make_ctx()) == first
    assert len(first) == 36


def test_timestamp_of_naive_now_counts_as_utc() -> None:
    assert ev("timestamp", now=datetime(1970, 1, 2)) == 86400


def test_timestamp_of_other_zone() -> None:
    plus_two = datetime(1970, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert ev("timestamp", now=plus_two) == 0


def test_context_variables_and_unknown_names() -> None:
    variables = {"var": {"input": {"name": "Ada"}}, "odd name": 5}
    assert ev("var.input.name", variables=variables) == "Ada"
    assert ev("`odd name`", variables=variables) == 5
    assert ev("unknownName") is None
    assert ev("now", variables={"now": "shadowed?"}) == NOW


# --- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1.amount * 2", 42),
        ("1 + 2", 3),
        ('"a" + 1', "a1"),
        ('1 + "a"', "1a"),
        ('1 + "2"', 3),
        ('"1" + 2', 3),
        ("1.price + 0.5", 20),
        ('"1" + "2"', "12"),
        ('"a" + "b"', "ab"),
        ("null + 5", 5),
        ('"a" + null', "a"),
        ("null + null", None),
        ("1.missing + 1", 1),
        ("true + 1", "true1"),
        ('1.items[1].tags + "!"', "a, b!"),
        ("0.1 + 0.2", 0.30000000000000004),
        ("10 - 4", 6),
        ('"10" - 4', 6),
        ("10 - 2 - 3", 5),
        ("2 * 3.5", 7),
        ('"3" * "4"', 12),
        ("1 / 4", 0.25),
        ("6 / 3", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("7.5 mod 2", 1.5),
        ("null * 2", None),
        ("2 - null", None),
        ("-1.amount", -21),
        ('-"4"', -4),
        ("-null", None),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 * 3 - 4 / 2", 4),
    ],
)
def test_arithmetic(expression: str, expected: Any) -> None:
    result = ev(expression)
    assert result == expected
    assert type(result) is type(expected)


def test_integral_results_are_ints() -> None:
    assert type(ev("2.5 * 2")) is int
    assert type(ev("1.price * 2")) is int


def test_big_numbers_behave_like_javascript() -> None:
    assert ev("9007199254740993 + 0") == 9007199254740992.0
    assert ev("1e308 * 10") == math.inf
    assert math.isnan(ev("(1e308 * 10) % 2"))
    product = ev(" * ".join(["99999999999"] * 200))
    assert product == math.inf


@pytest.mark.parametrize(
    ("expression", "position", "message"),
    [
        ('"a" - 1', 6, "operator '-' needs numbers"),
        ("1.name * 2", 9, "operator '*' needs numbers"),
        ("1 / 0", 4, "division by zero"),
        ("1 / 1.zero", 4, "division by zero"),
        ("5 % 0", 4, "division by zero"),
        ("1.items * 2", 10, "got array"),
        ('-"x"', 2, "operator '-'"),
        ("true * 2", 7, None),
    ],
)
def test_arithmetic_errors(expression: str, position: int, message: str | None) -> None:
    if message is None:
        assert ev(expression) == 2  # booleans read as 1/0 in numeric operators
        return
    with pytest.raises(ExpressionError, match=re.escape(message)) as info:
        ev(expression)
    assert info.value.position == position
    assert info.value.source == "{{" + expression + "}}"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"1" = 1', True),
        ("1 == 1.0", True),
        ('"a" = "a"', True),
        ('"a" = "A"', False),
        ("1.amount = 21", True),
        ('1.amount = "21"', True),
        ("1.empty = null", True),
        ("1.missing = null", True),
        ('1.missing = ""', True),
        ("1 != 2", True),
        ('"1" != 1', False),
        ("true = 1", True),
        ("1.flag = true", True),
        ("5 > 3", True),
        ('"10" > "9"', True),
        ('"10" > 9', True),
        ('"abc" < "abd"', True),
        ('"b" > "a"', True),
        ('"B" < "a"', True),
        ("3 >= 3", True),
        ("3 <= 2", False),
        ("1.a > 10 & 1.a < 50", True),
        ("1.a > 10 & 1.a < 15", False),
        ("1.a < 10 | 1.a = 20", True),
        ("1.a < 10 || 1.a > 30", False),
        ("1.a > 10 && true", True),
        ("1.a > 10 and 1.a < 50 or false", True),
        ("1.when < now", True),
        ("1 + 1 = 2", True),
    ],
)
def test_comparison_and_logic(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"a" & "b"', True),
        ('"a" & ""', False),
        ("0 | null", False),
        ('0 | "x"', True),
        ('"false" | 0', False),
        ("1.items & 1", True),
    ],
)
def test_logical_operators_return_booleans_never_text(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


def test_logical_operators_short_circuit(register: Register) -> None:
    calls: list[int] = []

    def mark(ctx: EvalContext, x: int) -> bool:
        calls.append(x)
        return True

    register("_t_mark", mark, 1, 1)
    assert ev("false & _t_mark(1)") is False
    assert ev("true | _t_mark(2)") is True
    assert ev("true & _t_mark(3)") is True
    assert calls == [3]


# --- function calls ------------------------------------------------------------------------


def test_function_calls_receive_evaluated_arguments(register: Register) -> None:
    register("_t_args", lambda ctx, *args: list(args))
    assert ev('_t_args(1.email; 1 + 1; "x"; ; null)') == ["ada@example.com", 2, "x", None, None]
    assert ev("_t_args()") == []


def test_function_calls_get_the_context(register: Register) -> None:
    register("_t_exec", lambda ctx: ctx.execution_id)
    assert ev("_t_exec()") == "exec-42"


def test_nested_calls(register: Register) -> None:
    register("_t_up", lambda ctx, text: str(text).upper(), 1, 1)
    register("_t_cat", lambda ctx, *parts: "".join(map(str, parts)))
    assert ev('_t_cat(_t_up(1.name); "-"; _t_up(_t_cat("a"; "b")))') == "ADA-AB"


def test_function_names_are_case_sensitive(register: Register) -> None:
    register("_t_fn", lambda ctx: 1)
    with pytest.raises(ExpressionError, match="unknown function _T_FN"):
        ev("_T_FN()")


def test_unknown_function_has_position() -> None:
    with pytest.raises(ExpressionError, match=r"unknown function _t_nope\(\)") as info:
        evaluate_template("ab {{ _t_nope(1) }}", make_ctx())
    assert info.value.position == 6


def test_function_errors_get_the_call_position(register: Register) -> None:
    def fail(ctx: EvalContext) -> None:
        raise ExpressionError("bad input")

    register("_t_fail", fail)
    with pytest.raises(ExpressionError, match="bad input") as info:
        ev("1 + _t_fail()")
    assert info.value.position == 6


def test_argument_count_errors_are_positioned(register: Register) -> None:
    register("_t_one", lambda ctx, x: x, 1, 1)
    with pytest.raises(ExpressionError, match="takes 1 arguments") as info:
        ev("_t_one(1; 2)")
    assert info.value.position == 2


def test_python_exceptions_from_functions_become_expression_errors(register: Register) -> None:
    register("_t_bug", lambda ctx: 1 // 0)
    with pytest.raises(ExpressionError, match="_t_bug") as info:
        ev("_t_bug()")
    assert isinstance(info.value.__cause__, ZeroDivisionError)

    def recurse(ctx: EvalContext) -> None:
        raise RecursionError

    register("_t_deep", recurse)
    with pytest.raises(ExpressionLimitError):
        ev("_t_deep()")


def test_function_limit_errors_keep_their_class(register: Register) -> None:
    def too_big(ctx: EvalContext) -> None:
        raise ExpressionLimitError("too big")

    register("_t_big", too_big)
    with pytest.raises(ExpressionLimitError, match="too big") as info:
        ev("_t_big()")
    assert info.value.position == 2


# --- limits --------------------------------------------------------------------------------


def test_step_limit() -> None:
    limits = Limits(max_steps=50)
    with pytest.raises(ExpressionLimitError, match="steps"):
        ev(" + ".join(["1"] * 100), limits=limits)


def test_projection_counts_steps() -> None:
    bundles = {1: {"items": [{"a": i} for i in range(1000)]}}
    with pytest.raises(ExpressionLimitError, match="steps"):
        ev("1.items[].a", bundles=bundles, limits=Limits(max_steps=500))


def test_text_limit_on_concatenation() -> None:
    limits = Limits(max_text_length=10)
    assert ev('"12345" + "12345"', limits=limits) == "1234512345"
    with pytest.raises(ExpressionLimitError, match="longer than 10"):
        ev('"12345" + "123456"', limits=limits)


def test_result_size_limits_on_function_results(register: Register) -> None:
    register("_t_list", lambda ctx, n: list(range(n)), 1, 1)
    register("_t_text", lambda ctx, n: "x" * n, 1, 1)
    limits = Limits(max_array_length=5, max_text_length=5)
    assert ev("_t_list(5)", limits=limits) == [0, 1, 2, 3, 4]
    with pytest.raises(ExpressionLimitError, match="more than 5 items"):
        ev("_t_list(6)", limits=limits)
    with pytest.raises(ExpressionLimitError, match="longer than 5"):
        ev("_t_text(6)", limits=limits)


def test_long_chains_evaluate_without_recursion() -> None:
    assert ev(" + ".join(["1"] * 20000)) == 20000
    assert ev(" & ".join(["1"] * 20000)) is True


def test_deep_parentheses_within_the_limit_evaluate() -> None:
    assert ev("(" * 60 + "1.a" + ")" * 60) == 20
