"""Make's unquoted regular-expression literal as a function argument: `replace(x; /\\s+/g; "-")`.

The rule: a `/` at the start of a function argument (right after the call's `(` or a `;`)
begins a regex literal; a `/` anywhere else is division.
"""

from __future__ import annotations

from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml import EvalContext, evaluate_template, parse_template
from scenarist_engine.iml.lexer import OPERATOR, STRING, tokenize

BUNDLES: dict[int, Any] = {
    1: {"text": "Hello   big\tworld", "path": "a/b/c", "n": 8, "abc": "xabyAB"},
}


def evaluate(template: str) -> Any:
    return evaluate_template(template, EvalContext(bundles=BUNDLES))


def kinds(expression: str) -> list[tuple[str, object]]:
    tokens, _ = tokenize(expression + "}}", 0)
    return [(token.kind, token.value) for token in tokens[:-1]]


# -- the acceptance examples ------------------------------------------------------------------


def test_whitespace_regex_with_global_flag() -> None:
    assert evaluate('{{replace(1.text; /\\s+/g; "-")}}') == "Hello-big-world"


def test_group_reference_with_case_insensitive_flag() -> None:
    assert evaluate('{{replace(1.abc; /a(b)/gi; "$1")}}') == "xbyB"


def test_without_g_only_the_first_match_is_replaced() -> None:
    assert evaluate('{{replace("aaa"; /a/; "b")}}') == "baa"


def test_the_literal_matches_the_quoted_form() -> None:
    assert evaluate('{{replace(1.text; /\\s+/g; "-")}}') == evaluate(
        '{{replace(1.text; "/\\\\s+/g"; "-")}}'
    )


# -- what the lexer makes of it ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "literal"),
    [
        ("f(/a/)", "/a/"),
        ("f(x; /a+b/gi)", "/a+b/gi"),
        ("f( x ;  /a/m )", "/a/m"),  # whitespace before the literal does not matter
        ("f(/a\\/b/)", "/a\\/b/"),  # an escaped slash does not end it
        ("f(/[/]/g)", "/[/]/g"),  # nor does a slash inside a class
        ("f(/[\\]/]x/)", "/[\\]/]x/"),  # nor an escaped ] inside a class
        ("f(/\\\\/)", "/\\\\/"),  # an escaped backslash, then the end
        ("f(/a}}b/)", "/a}}b/"),  # like a string, it may contain }}
        ("f(/a/gimsuy)", "/a/gimsuy"),
    ],
)
def test_a_slash_starting_an_argument_is_a_regex_literal(expression: str, literal: str) -> None:
    assert (STRING, literal) in kinds(expression)


def test_the_literal_is_text_in_the_syntax_tree() -> None:
    assert evaluate("{{lower(/AbC/g)}}") == "/abc/g"
    assert evaluate("{{length(/ab/)}}") == 4


# -- division keeps working -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{4 / 2}}", 2),
        ("{{4/2}}", 2),
        ("{{1.n / 2 / 2}}", 2),
        ("{{max(4 / 2; 8 / 2)}}", 4),
        ("{{max(4/2; 8/2)}}", 4),
        ("{{round(1.n / 3)}}", 3),
        ("{{(8 / 2) / 2}}", 2),
        ("{{max(1; (8 / 2))}}", 4),
        ("{{max(1; 1.n / 4)}}", 2),
        ('{{length(split(1.path; "/"))}}', 3),  # a quoted slash is just text
    ],
)
def test_division_elsewhere_is_still_division(template: str, expected: Any) -> None:
    assert evaluate(template) == expected


def test_a_slash_after_an_operand_lexes_as_the_division_operator() -> None:
    assert kinds("f(4 / 2)") == [
        ("name", "f"),
        ("(", "("),
        ("number", 4),
        (OPERATOR, "/"),
        ("number", 2),
        (")", ")"),
    ]


def test_outside_a_call_a_leading_slash_is_not_a_regex() -> None:
    # A parenthesised group is not an argument list, so this stays a syntax error.
    with pytest.raises(ExpressionError):
        parse_template("{{(/a/)}}")
    with pytest.raises(ExpressionError):
        parse_template("{{/a/}}")


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message", "position"),
    [
        ('{{replace(1.text; /a; "-")}}', "unterminated regular expression literal", 18),
        ("{{replace(1.text; /[/)}}", "unterminated regular expression literal", 18),
        ('{{replace(1.text; /a\nb/; "-")}}', "unterminated regular expression literal", 18),
        ('{{replace(1.text; //g; "-")}}', "empty regular expression literal", 18),
        ('{{replace(1.text; /a/x; "-")}}', "invalid regular expression flag 'x'", 21),
        ('{{replace(1.text; /a/gg; "-")}}', "invalid regular expression flag 'g'", 22),
    ],
)
def test_malformed_literals_are_refused_with_a_position(
    template: str, message: str, position: int
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_template(template)
    assert caught.value.message == message
    assert caught.value.position == position


def test_an_invalid_pattern_fails_when_evaluated() -> None:
    with pytest.raises(ExpressionError):
        evaluate('{{replace("x"; /(/; "-")}}')
