"""The IML parser: tree shapes, precedence, and syntax errors with positions."""

from __future__ import annotations

import math
import re

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml import Limits, parse_template
from scenarist_engine.iml.ast import (
    Call,
    Chain,
    Index,
    Key,
    Literal,
    Logical,
    ModuleRef,
    Negate,
    Node,
    Path,
    Project,
    Variable,
)
from scenarist_engine.iml.values import ERASE, IGNORE


def expr(source: str) -> Node:
    node = parse_template("{{" + source + "}}").single
    assert node is not None
    return node


def shape(node: Node) -> object:
    """A compact, position-free rendering of a tree for assertions."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Variable):
        return ("var", node.name)
    if isinstance(node, ModuleRef):
        return ("module", node.module_id)
    if isinstance(node, Path):
        return ("path", shape(node.base), *[segment_shape(s) for s in node.segments])
    if isinstance(node, Call):
        return ("call", node.name, *[shape(arg) for arg in node.args])
    if isinstance(node, Negate):
        return ("neg", shape(node.operand))
    if isinstance(node, Logical):
        return (node.op, *[shape(operand) for operand in node.operands])
    assert isinstance(node, Chain)
    result: tuple[object, ...] = (shape(node.first),)
    for link in node.links:
        result = (
            (link.op, *result, shape(link.operand))
            if len(result) == 1
            else (
                link.op,
                result,
                shape(link.operand),
            )
        )
    return result


def segment_shape(segment: Key | Index | Project) -> object:
    if isinstance(segment, Key):
        return segment.name
    if isinstance(segment, Index):
        return ("[]", shape(segment.expr))
    return "[*]"


def test_module_path() -> None:
    assert shape(expr("3.data.name")) == ("path", ("module", 3), "data", "name")


def test_index_and_projection() -> None:
    assert shape(expr("5.items[1].title")) == ("path", ("module", 5), "items", ("[]", 1), "title")
    assert shape(expr("1.items[].sku")) == ("path", ("module", 1), "items", "[*]", "sku")


def test_index_can_be_an_expression() -> None:
    assert shape(expr("1.items[1.n + 1]")) == (
        "path",
        ("module", 1),
        "items",
        ("[]", ("+", ("path", ("module", 1), "n"), 1)),
    )


def test_backticks() -> None:
    assert shape(expr("1.`Customer Name`")) == ("path", ("module", 1), "Customer Name")
    assert shape(expr("`1`")) == ("module", 1)
    assert shape(expr("`12`.a")) == ("path", ("module", 12), "a")
    assert shape(expr("`odd name`")) == ("var", "odd name")


def test_bare_number_is_a_number_not_a_module() -> None:
    assert shape(expr("1")) == 1
    assert shape(expr("1.5")) == 1.5


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("null", None),
        ("true", True),
        ("false", False),
        ("emptystring", ""),
        ("space", " "),
        ("tab", "\t"),
        ("newline", "\n"),
        ("nbsp", "\u00a0"),
        ("carriagereturn", "\r"),
        ("pi", math.pi),
    ],
)
def test_constant_keywords(keyword: str, value: object) -> None:
    assert shape(expr(keyword)) == value


def test_directives_are_literals() -> None:
    assert expr("ignore") == Literal(IGNORE, 2)
    assert expr("erase") == Literal(ERASE, 2)


@pytest.mark.parametrize(
    "name", ["now", "timestamp", "random", "uuid", "executionId", "emptyarray"]
)
def test_runtime_variables(name: str) -> None:
    assert shape(expr(name)) == ("var", name)


def test_keywords_are_case_sensitive() -> None:
    assert shape(expr("NULL")) == ("var", "NULL")


def test_calls_with_semicolons() -> None:
    assert shape(expr('if(1.a = 1; "yes"; "no")')) == (
        "call",
        "if",
        ("=", ("path", ("module", 1), "a"), 1),
        "yes",
        "no",
    )
    assert shape(expr("now2()")) == ("call", "now2")
    assert shape(expr("f(g(1); h())")) == ("call", "f", ("call", "g", 1), ("call", "h"))


def test_empty_call_arguments_are_null() -> None:
    assert shape(expr('f(1; ; "x")')) == ("call", "f", 1, None, "x")
    assert shape(expr("f(1;)")) == ("call", "f", 1, None)


def test_arithmetic_precedence() -> None:
    assert shape(expr("1 + 2 * 3")) == ("+", 1, ("*", 2, 3))
    assert shape(expr("(1 + 2) * 3")) == ("*", ("+", 1, 2), 3)
    assert shape(expr("10 - 2 - 3")) == ("-", ("-", 10, 2), 3)
    assert shape(expr("7 mod 2 * 3")) == ("*", ("%", 7, 2), 3)


def test_logical_binds_below_comparison() -> None:
    assert shape(expr("1.a > 10 & 1.a < 50")) == (
        "&",
        (">", ("path", ("module", 1), "a"), 10),
        ("<", ("path", ("module", 1), "a"), 50),
    )


def test_and_binds_tighter_than_or() -> None:
    assert shape(expr("a | b & c")) == ("|", ("var", "a"), ("&", ("var", "b"), ("var", "c")))
    assert shape(expr("a or b and c or d")) == (
        "|",
        ("var", "a"),
        ("&", ("var", "b"), ("var", "c")),
        ("var", "d"),
    )


def test_comparison_binds_below_addition() -> None:
    assert shape(expr("1 + 1 = 2")) == ("=", ("+", 1, 1), 2)
    assert shape(expr("1 == 1")) == ("=", 1, 1)


def test_unary_minus() -> None:
    assert shape(expr("-5")) == -5
    assert shape(expr("--5")) == 5
    assert shape(expr("-1.a")) == ("neg", ("path", ("module", 1), "a"))
    assert shape(expr("2 * -x")) == ("*", 2, ("neg", ("var", "x")))


def test_postfix_on_any_value() -> None:
    assert shape(expr("f(1).a[2]")) == ("path", ("call", "f", 1), "a", ("[]", 2))
    assert shape(expr("(1.a).b")) == ("path", ("path", ("module", 1), "a"), "b")


def test_positions_point_into_the_template() -> None:
    template = parse_template("ab {{ 1.x + f(2) }}")
    node = template.single or template.parts[1]
    assert isinstance(node, Chain)
    assert node.pos == 6
    assert node.links[0].pos == 10
    call = node.links[0].operand
    assert isinstance(call, Call)
    assert call.pos == 12


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("{{}}", 2, "empty expression"),
        ("{{1 +}}", 5, "unexpected end"),
        ("{{(1}}", 4, "expected ')'"),
        ("{{1.items[1}}", 11, "expected ']'"),
        ("{{f(1, 2)}}", 5, "unexpected character"),
        ("{{f(1 2)}}", 6, "expected ';' or ')'"),
        ("{{1.}}", 4, "expected a key"),
        ("{{1 2}}", 4, "unexpected '2'"),
        ("{{a.b(1)}}", 5, "unexpected '('"),
        ("{{)}}", 2, "unexpected ')'"),
        ("x {{1.a", 2, "never closed"),
        ("{{* 2}}", 2, "unexpected '*'"),
    ],
)
def test_syntax_errors_have_positions(source: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)) as info:
        parse_template(source)
    assert info.value.position == position
    assert info.value.source == source
    assert not isinstance(info.value, ExpressionLimitError)


def test_nesting_depth_limit() -> None:
    limits = Limits(max_depth=10)
    parse_template("{{" + "(" * 9 + "1" + ")" * 9 + "}}", limits)
    with pytest.raises(ExpressionLimitError, match="nested"):
        parse_template("{{" + "(" * 10 + "1" + ")" * 10 + "}}", limits)
    with pytest.raises(ExpressionLimitError):
        parse_template("{{" + "f(" * 10 + "1" + ")" * 10 + "}}", limits)
    with pytest.raises(ExpressionLimitError):
        parse_template("{{1.a" + "[1.a" * 10 + "]" * 10 + "}}", limits)
    with pytest.raises(ExpressionLimitError):
        parse_template("{{" + "-" * 20 + "x}}", limits)


def test_default_depth_limit_stops_deep_input_cleanly() -> None:
    with pytest.raises(ExpressionLimitError):
        parse_template("{{" + "(" * 5000 + "1" + ")" * 5000 + "}}")


def test_huge_depth_setting_still_never_overflows_the_stack() -> None:
    with pytest.raises(ExpressionLimitError):
        parse_template("{{" + "(" * 20000 + "1" + ")" * 20000 + "}}", Limits(max_depth=10**6))


def test_projection_count_is_limited() -> None:
    with pytest.raises(ExpressionLimitError):
        parse_template("{{1.a" + "[]" * 11 + "}}", Limits(max_depth=10))


def test_long_operator_chains_are_flat() -> None:
    node = expr(" + ".join(["1"] * 5000))
    assert isinstance(node, Chain)
    assert len(node.links) == 4999


def test_template_length_limit() -> None:
    with pytest.raises(ExpressionLimitError, match="longer"):
        parse_template("x" * 101, Limits(max_template_length=100))
