"""Aggregate to JSON and Aggregate to CSV: one document from the bundles of a feeder; and
Transform to JSON, which turns any one value into JSON text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
ITERATOR: dict[str, Any] = {
    "id": 2,
    "module": "builtin:BasicFeeder",
    "mapper": {"array": "{{1.items}}"},
}
ITEMS = {"items": [{"name": "Ada", "age": 36}, {"name": "Bob, Jr.", "note": 'say "hi"'}]}


def _aggregator(kind: str, mapper: dict[str, Any] | None = None, **parameters: Any) -> Any:
    module: dict[str, Any] = {"id": 3, "module": kind, "parameters": {"feeder": 2, **parameters}}
    if mapper is not None:
        module["mapper"] = mapper
    return module


AFTER: dict[str, Any] = {
    "id": 4,
    "module": "json:ParseJSON",
    "mapper": {"json": "{{3.json}}"},
}


def test_aggregate_to_json_with_a_mapper_builds_one_array() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            ITERATOR,
            _aggregator("json:AggregateToJSON", {"who": "{{upper(2.name)}}", "n": "{{2.age}}"}),
            AFTER,
        ],
        ITEMS,
    )
    assert outcome.status == "success"
    [bundle] = outcome.outputs(3)
    assert json.loads(bundle["json"]) == [{"who": "ADA", "n": 36}, {"who": "BOB, JR.", "n": None}]
    # Parsed back, the array is one bundle per item again.
    assert outcome.outputs(4) == [{"who": "ADA", "n": 36}, {"who": "BOB, JR.", "n": None}]
    # trigger + iterator + one aggregation + parse
    assert (outcome.ops(3), outcome.operations) == (1, 4)


def test_aggregate_to_json_without_a_mapper_keeps_the_bundles_minus_bookkeeping() -> None:
    outcome = run_flow([WEBHOOK, ITERATOR, _aggregator("json:AggregateToJSON")], ITEMS)
    [bundle] = outcome.outputs(3)
    assert json.loads(bundle["json"]) == ITEMS["items"]
    assert "__IMT" not in bundle["json"]


def test_aggregate_to_json_of_nothing_is_an_empty_array() -> None:
    outcome = run_flow([WEBHOOK, ITERATOR, _aggregator("json:AggregateToJSON")], {"items": []})
    assert outcome.outputs(3) == [{"json": "[]"}]


def test_aggregate_to_json_groups_by_key() -> None:
    module = _aggregator("json:AggregateToJSON", {"v": "{{2.v}}"})
    module["flags"] = {"groupBy": "{{2.k}}"}
    items = {"items": [{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}]}
    outcome = run_flow([WEBHOOK, ITERATOR, module], items)
    assert outcome.outputs(3) == [
        {"key": "a", "json": '[{"v":1},{"v":3}]'},
        {"key": "b", "json": '[{"v":2}]'},
    ]


def test_aggregate_to_csv_quotes_what_needs_quoting() -> None:
    outcome = run_flow([WEBHOOK, ITERATOR, _aggregator("csv:AggregateToCSV")], ITEMS)
    assert outcome.outputs(3) == [{"text": 'name,age,note\nAda,36,\n"Bob, Jr.",,"say ""hi"""\n'}]


def test_aggregate_to_csv_with_a_mapper_delimiter_and_no_headers() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            ITERATOR,
            _aggregator(
                "csv:AggregateToCSV",
                {"name": "{{2.name}}", "tags": "{{2.tags}}"},
                delimiter="semicolon",
                includeHeaders=False,
            ),
        ],
        {"items": [{"name": "a", "tags": ["x", "y"]}, {"name": "b;c"}]},
    )
    assert outcome.outputs(3) == [{"text": 'a;x, y\n"b;c";\n'}]


@pytest.mark.parametrize("delimiter", ["", "ab", "\n"])
def test_aggregate_to_csv_refuses_a_bad_delimiter(delimiter: str) -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            ITERATOR,
            _aggregator("csv:AggregateToCSV", delimiter="other", delimiterOther=delimiter),
        ],
        ITEMS,
    )
    assert outcome.errors(3) == ["DataError"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{{1.x}}", '[1,{"b":null}]'),
        ("text", '"text"'),
        ("{{1.n}}", "5"),
    ],
)
def test_transform_to_json_encodes_any_value(value: str, expected: str) -> None:
    outcome = run_flow(
        [WEBHOOK, {"id": 2, "module": "json:TransformToJSON", "mapper": {"object": value}}],
        {"x": [1, {"b": None}], "n": 5},
    )
    assert outcome.outputs(2) == [{"json": expected}]
