"""Property tests: whatever the input, IML yields a value or an ExpressionError, never a
crash, a hang, or another exception type."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml import EvalContext, Limits, evaluate_template, parse_template
from scenarist_engine.iml.functions.registry import FUNCTIONS, FunctionSpec
from scenarist_engine.iml.values import to_text

PROPERTY_SETTINGS = settings(
    max_examples=250,
    deadline=None,
    database=None,  # unit tests do no I/O
    suppress_health_check=[HealthCheck.too_slow],
)

BUNDLES: dict[int, Any] = {
    1: {
        "a": 5,
        "b": "text",
        "n": "12",
        "items": [{"b": 1}, {"b": "two"}, {"c": None}],
        "odd key": [1, 2],
        "when": datetime(2024, 1, 1, tzinfo=UTC),
        "nested": {"deep": {"deeper": [True, False]}},
    },
    2: {"x": None, "y": [], "z": {}},
}
LIMITS = Limits(max_steps=20_000, max_text_length=10_000, max_array_length=1_000)


def _bug(ctx: EvalContext) -> Any:
    raise ValueError("a bug in a function")


def _fail(ctx: EvalContext, *args: Any) -> Any:
    raise ExpressionError("refused")


FAKE_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "_p_id": (lambda ctx, x: x, 1, 1),
    "_p_list": (lambda ctx, *args: list(args), 0, None),
    "_p_fail": (_fail, 0, None),
    "_p_bug": (_bug, 0, 0),
}
CALLABLE_NAMES = [*FAKE_FUNCTIONS, "_p_unknown"]


@pytest.fixture(scope="module", autouse=True)
def fake_functions() -> Iterator[None]:
    for name, (impl, low, high) in FAKE_FUNCTIONS.items():
        FUNCTIONS[name] = FunctionSpec(name, impl, low, high, name, "test", "")
    yield
    for name in FAKE_FUNCTIONS:
        FUNCTIONS.pop(name, None)


def ctx() -> EvalContext:
    return EvalContext(bundles=BUNDLES, limits=LIMITS, seed=1)


def value_or_expression_error(source: str) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate_template(source, ctx())


# --- arbitrary text ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.text(max_size=200))
def test_any_text_is_a_value_or_an_expression_error(source: str) -> None:
    value_or_expression_error(source)
    value_or_expression_error("{{" + source + "}}")


TOKENS = [
    "1", "2", "0", "1.5", "9e999", "99999999999999999999", ".", "a", "b", "items", "[", "]",
    "(", ")", ";", "+", "-", "*", "/", "%", "=", "==", "!=", "<", ">", "<=", ">=", "&", "&&",
    "|", "||", "and", "or", "mod", '"x"', "'y'", '"1"', "`odd key`", "`1`", "null", "true",
    "false", "emptyarray", "emptystring", "ignore", "erase", "now", "uuid", "random",
    "timestamp", "pi", "space", "_p_id", "_p_list", "_p_fail", "_p_bug", "_p_unknown",
    "__class__", "constructor", " ", "{{", "}}", "{", "}", "\\", '"', "'", "`", "\n",
]  # fmt: skip


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup_is_a_value_or_an_expression_error(tokens: list[str]) -> None:
    soup = "".join(tokens)
    value_or_expression_error("{{" + soup + "}}")
    value_or_expression_error("x{{" + " ".join(tokens) + "}}y")
    value_or_expression_error(soup)


@PROPERTY_SETTINGS
@given(st.text(max_size=100).filter(lambda s: "{{" not in s))
def test_text_without_braces_is_returned_as_is(source: str) -> None:
    assert evaluate_template(source, ctx()) is source


# --- data stays data -----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(st.text(max_size=100), st.text(max_size=20).filter(lambda s: "{{" not in s))
def test_bundle_text_comes_out_verbatim(data: str, prefix: str) -> None:
    context = EvalContext(bundles={1: {"v": data}, 2: {"secret": "S3CRET"}})
    assert evaluate_template("{{1.v}}", context) == data
    assert evaluate_template(prefix + "{{1.v}}", context) == prefix + data


@PROPERTY_SETTINGS
@given(st.text(max_size=100))
def test_string_literals_round_trip(text: str) -> None:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    assert evaluate_template('{{"' + escaped + '"}}', ctx()) == text


# --- random syntax trees -------------------------------------------------------------------


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


LEAVES = st.one_of(
    st.integers(-(10**6), 10**6).map(lambda n: f"({n})" if n < 0 else str(n)),
    st.floats(allow_nan=False, allow_infinity=False, min_value=0).map(repr),
    st.text(max_size=10).map(quoted),
    st.sampled_from(
        [
            "1.a",
            "1.b",
            "1.n",
            "1.items",
            "1.items[2].b",
            "1.items[].b",
            "1.`odd key`[1]",
            "1.missing.x",
            "`1`",
            "2.x",
            "2.y",
            "2.z",
            "1.when",
            "1.nested.deep.deeper[1]",
            "null",
            "true",
            "false",
            "emptystring",
            "emptyarray",
            "ignore",
            "erase",
            "space",
            "now",
            "timestamp",
            "pi",
            "random",
            "uuid",
            "executionId",
            "unknownVariable",
        ]
    ),
)
BINARY_OPERATORS = ["+", "-", "*", "/", "%", "=", "!=", "<", ">", "<=", ">=", "&", "|"]


def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(BINARY_OPERATORS), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    unary = children.map(lambda c: f"-{c}")
    call = st.tuples(st.sampled_from(CALLABLE_NAMES), st.lists(children, max_size=3)).map(
        lambda t: f"{t[0]}({'; '.join(t[1])})"
    )
    index = st.tuples(children, children).map(lambda t: f"({t[0]})[{t[1]}]")
    key = st.tuples(children, st.sampled_from(["a", "b", "`odd key`", "1", "__class__"])).map(
        lambda t: f"({t[0]}).{t[1]}"
    )
    project = children.map(lambda c: f"({c})[].b")
    return st.one_of(binary, unary, call, index, key, project)


EXPRESSIONS = st.recursive(LEAVES, extend, max_leaves=25)


@PROPERTY_SETTINGS
@given(EXPRESSIONS)
def test_random_expressions_evaluate_or_raise_expression_error(source: str) -> None:
    value_or_expression_error("{{" + source + "}}")
    value_or_expression_error("<{{" + source + "}}>")


@PROPERTY_SETTINGS
@given(EXPRESSIONS)
def test_random_expressions_are_deterministic(source: str) -> None:
    def run() -> Any:
        try:
            return ("ok", to_text(evaluate_template("{{" + source + "}}", ctx())))
        except ExpressionError as exc:
            return ("error", exc.message, exc.position)

    assert run() == run()


# --- arithmetic against Python as the oracle -----------------------------------------------


def int_tree(children: st.SearchStrategy[tuple[str, int]]) -> st.SearchStrategy[tuple[str, int]]:
    def combine(t: tuple[tuple[str, int], str, tuple[str, int]]) -> tuple[str, int]:
        (left, a), op, (right, b) = t
        value = {"+": a + b, "-": a - b, "*": a * b}[op]
        return f"({left} {op} {right})", value

    return st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(combine)


INT_TREES = st.recursive(
    st.integers(-1000, 1000).map(lambda n: (f"({n})" if n < 0 else str(n), n)),
    int_tree,
    max_leaves=12,
)


@PROPERTY_SETTINGS
@given(INT_TREES)
def test_integer_arithmetic_matches_python(tree: tuple[str, int]) -> None:
    source, expected = tree
    if abs(expected) > 2**53:
        return
    result = evaluate_template("{{" + source + "}}", ctx())
    assert result == expected
    assert type(result) is int


@PROPERTY_SETTINGS
@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_comparisons_match_python(a: int, b: int) -> None:
    context = EvalContext(bundles={1: {"a": a, "b": str(b)}})
    assert evaluate_template("{{1.a < 1.b}}", context) is (a < b)
    assert evaluate_template("{{1.a >= 1.b}}", context) is (a >= b)
    assert evaluate_template("{{1.a = 1.b}}", context) is (a == b)
    assert evaluate_template("{{1.a != 1.b & 1.a > 1.b}}", context) is (a > b)


@PROPERTY_SETTINGS
@given(st.lists(st.integers(-100, 100), max_size=30))
def test_indexes_are_one_based(items: list[int]) -> None:
    context = EvalContext(bundles={1: {"items": items}})
    for position in range(-1, len(items) + 2):
        expected = items[position - 1] if 1 <= position <= len(items) else None
        assert evaluate_template(f"{{{{1.items[{position}]}}}}", context) == expected


@PROPERTY_SETTINGS
@given(st.text(max_size=60))
def test_parsing_is_cached_and_stable(text: str) -> None:
    source = "{{" + text + "}}"
    try:
        first = parse_template(source)
    except ExpressionError:
        return
    assert parse_template(source) is first
