from __future__ import annotations

import pytest
from scenarist.connector.v1.data_store_pb2 import Condition, ConditionGroup, RecordFilter
from scenarist_connector_gateway.record_filter import parse_search
from scenarist_connector_gateway.structure import FieldSpec
from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.gateway_models import DataRecord

STRUCTURE = (FieldSpec("name", "text"), FieldSpec("age", "number"))
RECORDS = [
    DataRecord("a", {"name": "Ann", "age": 30}),
    DataRecord("b", {"name": "bob", "age": 17}),
    DataRecord("c", {"name": "Cecil", "age": 45}),
    DataRecord("d", {"name": "Dana"}),
]


def _filter(*groups: list[tuple[str, str, str]]) -> RecordFilter:
    return RecordFilter(
        groups=[
            ConditionGroup(conditions=[Condition(field=f, operator=o, value=v) for f, o, v in g])
            for g in groups
        ]
    )


def _keys(record_filter: RecordFilter | None, order: str = "") -> list[str]:
    search, problems = parse_search(record_filter, order, STRUCTURE)
    assert search is not None, problems
    found, _ = search.run(RECORDS, 100, None)
    return [r.key for r in found]


def test_engine_operators_with_or_of_ands() -> None:
    assert _keys(None) == ["a", "b", "c", "d"]
    assert _keys(_filter([("age", "number:greater", "18")])) == ["a", "c"]
    assert _keys(_filter([("name", "text:contain:ci", '"AN"')])) == ["a", "d"]
    assert _keys(_filter([("name", "text:equal", '"bob"')], [("age", "notexist", "")])) == [
        "b",
        "d",
    ]
    both = _filter([("age", "number:greaterorequal", "30"), ("name", "text:startwith", '"C"')])
    assert _keys(both) == ["c"]
    assert _keys(_filter([("key", "text:equal", '"d"')])) == ["d"]


def test_order_by_field_and_paging() -> None:
    assert _keys(None, "age desc") == ["d", "c", "a", "b"]  # descending reverses "missing last"
    assert _keys(None, "age") == ["b", "a", "c", "d"]
    search, _ = parse_search(None, "name", STRUCTURE)
    assert search is not None
    first, token = search.run(RECORDS, 3, None)
    assert [r.key for r in first] == ["a", "c", "d"] and token is not None
    rest, last = search.run(RECORDS, 3, token)
    assert [r.key for r in rest] == ["b"] and last is None
    other, _ = parse_search(None, "age", STRUCTURE)
    assert other is not None
    with pytest.raises(InvalidPageTokenError):
        other.run(RECORDS, 3, token)


def test_bad_searches_are_violations() -> None:
    record_filter = _filter([("", "text:equal", "x"), ("age", "number:huge", "1")])
    search, problems = parse_search(record_filter, "nope desc", STRUCTURE)
    assert search is None
    assert problems == [
        ("filter.groups[0].conditions[0].field", "required"),
        ("filter.groups[0].conditions[0].value", "must be JSON text (quote strings)"),
        ("filter.groups[0].conditions[1].operator", "unknown operator 'number:huge'"),
        ("order_by", 'must be "key" or a field name, optionally followed by desc'),
    ]
