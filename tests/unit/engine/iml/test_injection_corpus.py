"""Injection attempts: each is a syntax error, an unknown function, null, or plain data.

IML is interpreted by our own code over dicts and lists only, so none of these can reach a
Python (or JavaScript-style) object, attribute, global or builtin.
"""

from __future__ import annotations

from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml import EvalContext, evaluate_template, parse_template

SYNTAX = "syntax error"
UNKNOWN = "unknown function"
ERROR = "expression error"


class Tripwire:
    """A non-dict object in a bundle: any attribute access by the evaluator would show."""

    secret = "attribute value"

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.touched.append(name)
        raise AttributeError(name)

    def __getitem__(self, key: Any) -> Any:
        self.touched.append(f"[{key!r}]")
        raise KeyError(key)


def bundles(tripwire: Tripwire) -> dict[int, Any]:
    return {
        1: {
            "email": "ada@example.com",
            "data": {"name": "x"},
            "tags": ["a", "b"],
            "amount": 3,
        },
        2: {"__proto__": "just data", "constructor": "also data", "__class__": "a key"},
        5: tripwire,
    }


def outcome(source: str, tripwire: Tripwire | None = None) -> Any:
    """SYNTAX, UNKNOWN, ERROR, or ("value", result)."""
    try:
        parse_template(source)
    except ExpressionError:
        return SYNTAX
    try:
        return (
            "value",
            evaluate_template(source, EvalContext(bundles=bundles(tripwire or Tripwire()))),
        )
    except ExpressionError as exc:
        return UNKNOWN if "unknown function" in exc.message else ERROR


NULL = ("value", None)


def text(value: str) -> tuple[str, str]:
    return ("value", value)


CORPUS: list[tuple[str, Any]] = [
    # JavaScript prototype and global access
    ("{{constructor}}", NULL),
    ("{{1.constructor}}", NULL),
    ("{{1.constructor.constructor}}", NULL),
    ('{{1.constructor.constructor("return process")()}}', SYNTAX),
    ("{{__proto__}}", NULL),
    ("{{1.__proto__}}", NULL),
    ("{{1.__proto__.polluted}}", NULL),
    ("{{1.data.__proto__.toString}}", NULL),
    ("{{prototype}}", NULL),
    ("{{1.prototype}}", NULL),
    ("{{process}}", NULL),
    ("{{process.env}}", NULL),
    ("{{process.env.SECRET_KEY}}", NULL),
    ('{{process.mainModule.require("child_process")}}', SYNTAX),
    ("{{this}}", NULL),
    ("{{this.constructor}}", NULL),
    ("{{globalThis}}", NULL),
    ("{{globalThis.process}}", NULL),
    ("{{window.location}}", NULL),
    ('{{Function("return this")}}', UNKNOWN),
    ('{{Function("return this")()}}', SYNTAX),
    ('{{import("os")}}', UNKNOWN),
    ('{{require("fs")}}', UNKNOWN),
    ("{{Reflect}}", NULL),
    ('{{Reflect.get(1; "email")}}', SYNTAX),
    ("{{Object.keys(1)}}", SYNTAX),
    ("{{toString.constructor}}", NULL),  # functions are not values
    ("{{lower}}", NULL),
    # Python dunders, globals, builtins
    ("{{__class__}}", NULL),
    ("{{1.__class__}}", NULL),
    ("{{1.__class__.__mro__}}", NULL),
    ("{{1.email.__class__.__mro__[2]}}", NULL),
    ("{{''.__class__}}", NULL),
    ("{{ ''.__class__ }}", NULL),
    ("{{''.__class__.__mro__[1].__subclasses__()}}", SYNTAX),
    ("{{1.amount.__class__.__name__}}", NULL),
    ("{{__globals__}}", NULL),
    ("{{1.__init__.__globals__}}", NULL),
    ("{{__builtins__}}", NULL),
    ("{{__builtins__.open}}", NULL),
    ("{{1.__dict__}}", NULL),
    ("{{1.email.__len__}}", NULL),
    ("{{ctx}}", NULL),
    ("{{ctx.bundles}}", NULL),
    ("{{self.__dict__}}", NULL),
    ("{{FUNCTIONS}}", NULL),
    ("{{config}}", NULL),
    ("{{request.application}}", NULL),
    ('{{__import__("os")}}', UNKNOWN),
    ('{{__import__("os").system("id")}}', SYNTAX),
    ('{{eval("1 + 1")}}', UNKNOWN),
    ('{{exec("import os")}}', UNKNOWN),
    ('{{compile("x"; "f"; "exec")}}', UNKNOWN),
    ('{{open("/etc/passwd")}}', UNKNOWN),
    ('{{getattr(1; "__class__")}}', UNKNOWN),
    ('{{setattr(1; "x"; 2)}}', UNKNOWN),
    ("{{globals()}}", UNKNOWN),
    ("{{locals()}}", UNKNOWN),
    ("{{vars()}}", UNKNOWN),
    ('{{__getattribute__("x")}}', UNKNOWN),
    ('{{os.system("id")}}', SYNTAX),
    ("{{os.system}}", NULL),
    ("{{os.environ}}", NULL),
    # String-built property names are dict keys or nothing
    ('{{1["__cla" + "ss__"]}}', NULL),
    ('{{`1`["__cla" + "ss__"]}}', NULL),
    ('{{1.data["constructor"]}}', NULL),
    ('{{1.data["__proto__"]}}', NULL),
    ('{{1.email["__class__"]}}', NULL),
    ('{{1.email["length"]}}', NULL),
    ('{{1.tags["length"]}}', NULL),
    ('{{1.tags["__len__"]}}', NULL),
    ('{{"abc"["upper"]}}', NULL),
    ('{{1.data["na" + "me"]}}', text("x")),
    # Keys that look dangerous are only data when the data has them
    ("{{2.__proto__}}", text("just data")),
    ("{{2.constructor}}", text("also data")),
    ('{{`2`["__cla" + "ss__"]}}', text("a key")),
    # Non-dict objects are opaque: no attribute or item access at all
    ("{{5.secret}}", NULL),
    ("{{5.__class__}}", NULL),
    ('{{5["secret"]}}', NULL),
    ("{{5.touched}}", NULL),
    # Template-engine syntaxes are not IML
    ("{% for x in y %}{{ x }}{% endfor %}", text("{% for x in y %}{% endfor %}")),
    ("{% import os %}", text("{% import os %}")),
    ("{{ {% raw %} }}", SYNTAX),
    ("{{ {{ 1.email }} }}", SYNTAX),
    ("{{7*7}}", ("value", 49)),
    ("{{7*'7'}}", ("value", 49)),
    ("${7*7}", text("${7*7}")),
    ("#{7*7}", text("#{7*7}")),
    ("<%= 7*7 %>", text("<%= 7*7 %>")),
    ('{{"{0.__class__}"}}', text("{0.__class__}")),
    ('{{"%(x)s" % 1}}', ERROR),
    ('{{"\\x41"}}', text("x41")),
    # JavaScript template literals are backtick names, i.e. nothing
    ("{{`${x}`}}", NULL),
    ("{{`${1.email}`}}", NULL),
    ("{{`${process.env}`}}", NULL),
    ("{{String.raw`${x}`}}", SYNTAX),
    ("{{1.`__class__`}}", NULL),
    ("{{1.`constructor`.`constructor`}}", NULL),
    # Statement-like input
    ("{{x = 1; y = 2}}", SYNTAX),
    ("{{lambda: 1}}", SYNTAX),
    ("{{[c for c in 1]}}", SYNTAX),
    ("{{1.email; 2}}", SYNTAX),
    ("{{1.email}}; DROP TABLE users", text("ada@example.com; DROP TABLE users")),
]


@pytest.mark.parametrize(("source", "expected"), CORPUS, ids=[case[0] for case in CORPUS])
def test_injection_attempt(source: str, expected: Any) -> None:
    assert outcome(source) == expected


def test_the_tripwire_object_was_never_touched() -> None:
    tripwire = Tripwire()
    for source, _ in CORPUS:
        outcome(source, tripwire)
    assert tripwire.touched == []


def test_only_documented_outcomes_occur() -> None:
    allowed = {SYNTAX, UNKNOWN, ERROR}
    for source, _ in CORPUS:
        result = outcome(source)
        assert result in allowed or (isinstance(result, tuple) and result[0] == "value")
