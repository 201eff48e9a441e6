"""JSON: Parse JSON (collection → one bundle, array → one per item) and Create JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from module_runs import run_flow
from scenarist_engine.modules.data import MAX_JSON_DEPTH

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
PARSE: dict[str, Any] = {"id": 2, "module": "json:ParseJSON", "mapper": {"json": "{{1.text}}"}}
AFTER: dict[str, Any] = {
    "id": 3,
    "module": "util:ComposeTransformer",
    "mapper": {"value": "{{2.name}}"},
}


def _create(mapper: dict[str, Any], kind: str = "json:CreateJSON") -> dict[str, Any]:
    return {"id": 2, "module": kind, "mapper": mapper}


# -- parse ------------------------------------------------------------------------------------


def test_parse_a_collection_gives_one_bundle() -> None:
    outcome = run_flow(
        [WEBHOOK, PARSE, AFTER], {"text": '{"name": "Ada", "tags": ["a"], "n": 1.5}'}
    )
    assert outcome.status == "success"
    assert outcome.outputs(2) == [{"name": "Ada", "tags": ["a"], "n": 1.5}]
    assert outcome.outputs(3) == [{"value": "Ada"}]
    assert (outcome.ops(2), outcome.ops(3)) == (1, 1)


def test_parse_an_array_gives_one_bundle_per_item() -> None:
    outcome = run_flow(
        [WEBHOOK, PARSE, AFTER], {"text": '[{"name": "Ada"}, {"name": "Bob"}, {"name": "Cy"}]'}
    )
    assert outcome.outputs(2) == [{"name": "Ada"}, {"name": "Bob"}, {"name": "Cy"}]
    # Parse JSON is one operation; the next module runs once per bundle.
    assert (outcome.ops(2), outcome.ops(3)) == (1, 3)
    assert outcome.operations == 5


def test_parse_an_array_of_scalars_puts_each_in_value() -> None:
    outcome = run_flow([WEBHOOK, PARSE], {"text": '[1, "two", null, [3]]'})
    assert outcome.outputs(2) == [{"value": 1}, {"value": "two"}, {"value": None}, {"value": [3]}]


@pytest.mark.parametrize(
    ("text", "expected"), [("5", 5), ('"text"', "text"), ("true", True), ("null", None)]
)
def test_parse_a_scalar_gives_one_bundle_with_value(text: str, expected: Any) -> None:
    assert run_flow([WEBHOOK, PARSE], {"text": text}).outputs(2) == [{"value": expected}]


def test_parse_an_empty_array_stops_the_flow_there() -> None:
    outcome = run_flow([WEBHOOK, PARSE, AFTER], {"text": "[]"})
    assert outcome.status == "success"
    assert outcome.outputs(2) == []
    assert outcome.ops(3) == 0


def test_parse_keeps_unicode_and_nesting() -> None:
    document = {"jméno": "Žluťoučký kůň", "deep": {"list": [{"a": [1, 2]}]}}
    outcome = run_flow([WEBHOOK, PARSE], {"text": json.dumps(document, ensure_ascii=False)})
    assert outcome.outputs(2) == [document]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        "{'single': 'quotes'}",
        '{"a": 1,}',
        '{"a": NaN}',  # JavaScript's JSON.parse refuses these, so Make does too
        "[Infinity]",
        "-Infinity",
    ],
    ids=repr,
)
def test_parse_invalid_json_is_a_data_error(text: str) -> None:
    outcome = run_flow([WEBHOOK, PARSE, AFTER], {"text": text})
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.errors(2) == ["DataError"]
    assert outcome.ops(3) == 0


def test_parse_accepts_nesting_up_to_the_limit() -> None:
    depth = MAX_JSON_DEPTH
    outcome = run_flow([WEBHOOK, PARSE], {"text": "[" * depth + "]" * depth})
    assert outcome.status == "success"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 2, 100_000], ids=str)
def test_parse_refuses_a_depth_bomb(depth: int) -> None:
    outcome = run_flow([WEBHOOK, PARSE], {"text": "[" * depth + "]" * depth})
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"


def test_parse_failure_can_be_resumed_with_a_substitute() -> None:
    parse = {**PARSE, "onerror": [{"id": 9, "module": "builtin:Resume", "mapper": {"name": "?"}}]}
    outcome = run_flow([WEBHOOK, parse, AFTER], {"text": "{oops"})
    assert outcome.status == "success"
    assert outcome.outputs(3) == [{"value": "?"}]


# -- create -----------------------------------------------------------------------------------


def test_create_json_from_a_data_field_keeps_types() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _create({"data": {"name": "{{1.name}}", "n": "{{1.n}}", "l": ["{{1.n}}", True, None]}}),
        ],
        {"name": "Ada", "n": 3},
    )
    assert outcome.outputs(2) == [{"json": '{"name":"Ada","n":3,"l":[3,true,null]}'}]
    assert outcome.ops(2) == 1


def test_create_json_from_the_mapped_fields_when_there_is_no_data_field() -> None:
    outcome = run_flow([WEBHOOK, _create({"name": "Žluť", "ok": "{{1.ok}}"})], {"ok": False})
    assert outcome.outputs(2) == [{"json": '{"name":"Žluť","ok":false}'}]


def test_create_json_of_an_array_and_of_nothing() -> None:
    outcome = run_flow(
        [WEBHOOK, _create({"data": "{{1.x}}"}, "json:TransformToJSON")], {"x": [1, {"b": None}]}
    )
    assert outcome.outputs(2) == [{"json": '[1,{"b":null}]'}]
    assert run_flow([WEBHOOK, _create({})]).outputs(2) == [{"json": "{}"}]


def test_create_then_parse_round_trips() -> None:
    document = {"order": {"id": 7, "lines": [{"sku": "A", "qty": 2}], "paid": True}}
    flow = [
        WEBHOOK,
        _create({"data": "{{1.doc}}"}),
        {"id": 3, "module": "json:ParseJSON", "mapper": {"json": "{{2.json}}"}},
    ]
    assert run_flow(flow, {"doc": document}).outputs(3) == [document]
