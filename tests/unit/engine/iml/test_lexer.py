"""The IML lexer: tokens, positions, and where an expression ends."""

from __future__ import annotations

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.lexer import (
    BACKTICK,
    END,
    NAME,
    NUMBER,
    OPERATOR,
    STRING,
    Token,
    tokenize,
)


def lex(expression: str) -> list[tuple[str, object]]:
    tokens, _ = tokenize(expression + "}}", 0)
    return [(token.kind, token.value) for token in tokens[:-1]]


def test_module_reference_is_number_dot_name() -> None:
    assert lex("1.email") == [(NUMBER, 1), (".", "."), (NAME, "email")]


def test_end_offset_is_after_closing_braces() -> None:
    tokens, end = tokenize("{{1.a}} tail", 2)
    assert end == 7
    assert tokens[-1] == Token(END, "}}", 5)


def test_positions_are_offsets_in_the_whole_source() -> None:
    tokens, _ = tokenize("ab{{ 1 + x}}", 4)
    assert [token.pos for token in tokens] == [5, 7, 9, 10]


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("1.5", 1.5), ("2.0", 2), ("1e3", 1000), ("2.5E-1", 0.25)],
)
def test_number_literals(text: str, value: float) -> None:
    assert lex(text) == [(NUMBER, value)]


def test_very_long_integer_literal_becomes_float_not_bigint() -> None:
    [(kind, value)] = lex("9" * 5000)
    assert kind == NUMBER
    assert value == float("inf")


def test_after_a_dot_digits_and_keywords_are_keys() -> None:
    assert lex("1.items.2.and.null") == [
        (NUMBER, 1),
        (".", "."),
        (NAME, "items"),
        (".", "."),
        (NAME, "2"),
        (".", "."),
        (NAME, "and"),
        (".", "."),
        (NAME, "null"),
    ]


def test_fraction_followed_by_a_key_is_an_integer_and_a_path() -> None:
    assert lex("1.2fa") == [(NUMBER, 1), (".", "."), (NAME, "2fa")]
    assert lex("1.2.x")[:3] == [(NUMBER, 1), (".", "."), (NAME, "2")]


def test_number_glued_to_a_name_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="invalid number") as info:
        lex("12abc")
    assert info.value.position == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"hello"', "hello"),
        ("'hello'", "hello"),
        ('"a\\"b"', 'a"b'),
        ("'it\\'s'", "it's"),
        ('"tab\\tnl\\ncr\\r"', "tab\tnl\ncr\r"),
        ('"\\u00e9"', "é"),
        ('"back\\\\slash"', "back\\slash"),
        ('"\\q"', "q"),
        ('"}}"', "}}"),
        ('"{{1.a}}"', "{{1.a}}"),
        ('""', ""),
    ],
)
def test_string_literals(text: str, value: str) -> None:
    assert lex(text) == [(STRING, value)]


@pytest.mark.parametrize("text", ['"abc', "'abc", '"abc\\', '"\\u12"'])
def test_bad_strings(text: str) -> None:
    with pytest.raises(ExpressionError):
        tokenize("{{" + text, 2)


def test_backtick_names() -> None:
    assert lex("1.`Customer Name`") == [
        (NUMBER, 1),
        (".", "."),
        (BACKTICK, "Customer Name"),
    ]
    assert lex("`1`") == [(BACKTICK, "1")]


def test_unterminated_backtick() -> None:
    with pytest.raises(ExpressionError, match="backtick"):
        tokenize("{{`abc}}", 2)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("&", "&"),
        ("&&", "&"),
        ("and", "&"),
        ("|", "|"),
        ("||", "|"),
        ("or", "|"),
        ("=", "="),
        ("==", "="),
        ("!=", "!="),
        ("<", "<"),
        ("<=", "<="),
        (">", ">"),
        (">=", ">="),
        ("+", "+"),
        ("-", "-"),
        ("*", "*"),
        ("/", "/"),
        ("%", "%"),
        ("mod", "%"),
    ],
)
def test_operators_and_aliases(text: str, canonical: str) -> None:
    assert lex(f"a {text} b") == [(NAME, "a"), (OPERATOR, canonical), (NAME, "b")]


def test_punctuation() -> None:
    assert [kind for kind, _ in lex("f(a; b)[1]")] == [
        NAME,
        "(",
        NAME,
        ";",
        NAME,
        ")",
        "[",
        NUMBER,
        "]",
    ]


def test_unicode_names() -> None:
    assert lex("1.název") == [(NUMBER, 1), (".", "."), (NAME, "název")]


@pytest.mark.parametrize("char", ["{", "}", "!", "@", "#", "^", "~", "?", ":", ",", "\\"])
def test_unexpected_characters(char: str) -> None:
    with pytest.raises(ExpressionError, match="unexpected character") as info:
        tokenize("{{1 " + char + " 2}}", 2)
    assert info.value.position == 4


def test_unclosed_expression_points_at_its_opening() -> None:
    with pytest.raises(ExpressionError, match="never closed") as info:
        tokenize("ab{{1.a", 4)
    assert info.value.position == 2
