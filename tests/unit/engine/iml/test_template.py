"""Templates (text with {{…}}), module mappers, directives, and data staying data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml import (
    ERASE,
    IGNORE,
    EvalContext,
    Limits,
    Template,
    evaluate_mapping,
    evaluate_template,
    parse_template,
    referenced_function_names,
    referenced_module_ids,
)
from scenarist_engine.iml.functions.registry import FUNCTIONS, FunctionSpec
from scenarist_engine.iml.values import is_ignore

BUNDLES: dict[int, Any] = {
    1: {
        "email": "ada@example.com",
        "amount": 21,
        "ratio": 0.5,
        "ok": True,
        "tags": ["a", "b"],
        "data": {"k": "v", "n": 1},
        "nothing": None,
        "when": datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        "payload": "{{2.secret}}",
        "nested_payload": "{{ {{2.secret}} }}",
        "jinja": "{% for x in y %}{{ x.__class__ }}{% endfor %}",
        "items": [{"name": "{{2.secret}}"}],
    },
    2: {"secret": "TOP SECRET"},
}


def make_ctx(**overrides: Any) -> EvalContext:
    options: dict[str, Any] = {"bundles": BUNDLES}
    options.update(overrides)
    return EvalContext(**options)


def render(source: str, **overrides: Any) -> Any:
    return evaluate_template(source, make_ctx(**overrides))


# --- typed vs text results -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{1.amount}}", 21),
        ("{{1.amount * 2}}", 42),
        ("{{1.ok}}", True),
        ("{{1.tags}}", ["a", "b"]),
        ("{{1.data}}", {"k": "v", "n": 1}),
        ("{{1.nothing}}", None),
        ("{{1.missing}}", None),
        ("{{ 1.amount }}", 21),
        ("{{1.when}}", datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)),
    ],
)
def test_a_lone_expression_keeps_its_type(source: str, expected: Any) -> None:
    result = render(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Total: {{1.amount}}", "Total: 21"),
        ("{{1.amount}} ", "21 "),
        (" {{1.amount}}", " 21"),
        ("{{1.amount}}{{1.amount}}", "2121"),
        ("{{1.ratio}}/{{1.ok}}", "0.5/true"),
        ("[{{1.tags}}]", "[a, b]"),
        ("{{1.data}}!", '{"k":"v","n":1}!'),
        ("<{{1.nothing}}><{{1.missing}}>", "<><>"),
        ("at {{1.when}}", "at 2024-01-02T03:04:05.006Z"),
        ("{{2.5 * 2}}x", "5x"),
        ("{{1 / 3}}", 1 / 3),
    ],
)
def test_text_around_expressions_makes_text(source: str, expected: Any) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    "source",
    ["", "plain text", "no braces } here }}", "{ single {", "a { {1.x} } b", "100%"],
)
def test_text_without_double_braces_is_returned_unchanged(source: str) -> None:
    assert render(source) is source


def test_json_braces_around_an_expression() -> None:
    assert render('{"email":"{{1.email}}"}') == '{"email":"ada@example.com"}'
    assert render("{{{1.amount}}}") == "{21}"
    assert render("{{{{1.amount}}}}") == "{{21}}"
    assert render('{"n":{{1.amount}}}') == '{"n":21}'


def test_lone_closing_braces_are_text() -> None:
    assert render("}} {{1.amount}} }}") == "}} 21 }}"


def test_strings_inside_expressions_may_contain_braces() -> None:
    assert render('{{"}}"}}') == "}}"
    assert render('{{"{{1.amount}}"}}') == "{{1.amount}}"


def test_rendered_text_respects_the_text_limit() -> None:
    limits = Limits(max_text_length=20)
    with pytest.raises(ExpressionLimitError):
        render("{{1.email}} and {{1.email}}", limits=limits)


# --- second-order injection ----------------------------------------------------------------


def test_bundle_text_with_braces_is_data_not_a_template() -> None:
    assert render("{{1.payload}}") == "{{2.secret}}"
    assert render("say {{1.payload}}") == "say {{2.secret}}"
    assert render("{{1.nested_payload}}") == "{{ {{2.secret}} }}"
    assert render("{{1.jinja}}") == BUNDLES[1]["jinja"]
    assert render("{{1.items[1].name}}") == "{{2.secret}}"
    assert render("{{1.items[].name}}") == ["{{2.secret}}"]


def test_mapping_does_not_re_evaluate_results() -> None:
    mapper = {"a": "{{1.payload}}", "b": ["x{{1.payload}}"], "c": "{{1.items}}"}
    result = evaluate_mapping(mapper, make_ctx())
    assert result == {"a": "{{2.secret}}", "b": ["x{{2.secret}}"], "c": BUNDLES[1]["items"]}
    assert "TOP SECRET" not in repr(result)


# --- mappers -------------------------------------------------------------------------------


def test_mapping_evaluates_every_nested_string() -> None:
    mapper = {
        "to": "{{1.email}}",
        "count": "{{1.amount + 1}}",
        "static": "hello",
        "number": 5,
        "flag": False,
        "none": None,
        "list": ["{{1.amount}}", "x{{1.amount}}", 3, {"deep": "{{1.ok}}"}],
        "{{1.email}}": "keys are not evaluated",
    }
    assert evaluate_mapping(mapper, make_ctx()) == {
        "to": "ada@example.com",
        "count": 22,
        "static": "hello",
        "number": 5,
        "flag": False,
        "none": None,
        "list": [21, "x21", 3, {"deep": True}],
        "{{1.email}}": "keys are not evaluated",
    }


def test_mapping_leaves_the_input_untouched() -> None:
    mapper = {"a": ["{{1.amount}}"]}
    evaluate_mapping(mapper, make_ctx())
    assert mapper == {"a": ["{{1.amount}}"]}


def test_ignore_drops_the_key_and_erase_sends_null() -> None:
    mapper = {
        "keep": "{{1.amount}}",
        "drop": "{{ignore}}",
        "clear": "{{erase}}",
        "items": ["{{ignore}}", "{{1.amount}}", "{{erase}}"],
        "nested": {"drop": "{{ignore}}"},
    }
    assert evaluate_mapping(mapper, make_ctx()) == {
        "keep": 21,
        "clear": None,
        "items": [21, None],
        "nested": {},
    }


def test_directives_are_empty_text_elsewhere() -> None:
    assert render("a{{ignore}}b{{erase}}c") == "abc"
    assert render("{{ignore}}") is IGNORE
    assert render("{{erase}}") is ERASE
    assert render('{{ignore = ""}}') is True
    assert is_ignore(evaluate_mapping("{{ignore}}", make_ctx()))


def test_directive_returned_by_a_function_still_counts() -> None:
    FUNCTIONS["_t_pass"] = FunctionSpec("_t_pass", lambda ctx, x: x, 1, 1, "", "test", "")
    try:
        assert evaluate_mapping({"a": "{{_t_pass(ignore)}}"}, make_ctx()) == {}
    finally:
        del FUNCTIONS["_t_pass"]


def test_mapping_errors_name_the_field() -> None:
    mapper = {"items": [{"name": "ok"}, {"name": "{{1.email}}"}, {"name": "{{1 / 0}}"}]}
    with pytest.raises(ExpressionError) as info:
        evaluate_mapping(mapper, make_ctx(), field="mapper")
    assert info.value.field == "mapper.items[2].name"
    assert info.value.position == 4
    assert info.value.source == "{{1 / 0}}"
    assert "division by zero" in str(info.value)


def test_mapping_errors_without_prefix() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate_mapping({"a": {"b": "{{1 +}}"}}, make_ctx())
    assert info.value.field == "a.b"


def test_mapping_limit_errors_keep_their_class() -> None:
    with pytest.raises(ExpressionLimitError) as info:
        evaluate_mapping({"a": "{{" + "(" * 100 + "1" + ")" * 100 + "}}"}, make_ctx())
    assert info.value.field == "a"


def test_absurdly_nested_mappers_are_refused() -> None:
    mapper: Any = "{{1.amount}}"
    for _ in range(100):
        mapper = [mapper]
    with pytest.raises(ExpressionLimitError):
        evaluate_mapping(mapper, make_ctx(limits=Limits(max_depth=50)))


# --- parsing API ---------------------------------------------------------------------------


def test_parse_template_parts() -> None:
    template = parse_template("Hi {{1.name}}, {{2.x}}!")
    assert isinstance(template, Template)
    assert [part for part in template.parts if isinstance(part, str)] == ["Hi ", ", ", "!"]
    assert template.single is None
    assert not template.is_plain
    assert parse_template("plain").is_plain


def test_parsed_templates_are_cached() -> None:
    assert parse_template("{{1.a + 1}}") is parse_template("{{1.a + 1}}")


def test_parse_errors_are_not_cached_as_successes() -> None:
    for _ in range(2):
        with pytest.raises(ExpressionError):
            parse_template("{{1 +}}")


def test_long_templates_parse_without_the_cache() -> None:
    source = "x" * 9000 + "{{1.amount}}"
    assert render(source) == "x" * 9000 + "21"


def test_referenced_module_ids() -> None:
    assert referenced_module_ids("{{1.a}} and {{2.b + `3`}} {{f(4.c; 5)}} {{6}}") == {1, 2, 3, 4}
    assert referenced_module_ids("{{1.items[7.i].x}} {{(8.y)}} {{-9.z}}") == {1, 7, 8, 9}
    assert referenced_module_ids("no refs") == set()


def test_referenced_module_ids_reports_syntax_errors() -> None:
    with pytest.raises(ExpressionError):
        referenced_module_ids("{{1.}}")


def test_referenced_function_names() -> None:
    assert referenced_function_names("{{if(a; lower(1.x); upper(b))}}") == {"if", "lower", "upper"}
    assert referenced_function_names("text") == set()


def test_evaluation_errors_carry_source_and_position() -> None:
    with pytest.raises(ExpressionError) as info:
        render("Total: {{1.email * 2}}")
    assert info.value.source == "Total: {{1.email * 2}}"
    assert info.value.position == 17
