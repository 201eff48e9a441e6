from __future__ import annotations

from typing import Any

import pytest
from scenarist.connector.v1.field_pb2 import Field
from scenarist_connector_gateway.structure import (
    FieldSpec,
    from_json,
    parse_fields,
    validate_record,
)

STRUCTURE = (
    FieldSpec("email", "text", required=True),
    FieldSpec("age", "number"),
    FieldSpec("vip", "boolean"),
    FieldSpec("since", "date"),
    FieldSpec("tags", "array"),
    FieldSpec("address", "collection", fields=(FieldSpec("city", "text", required=True),)),
    FieldSpec("orders", "array", fields=(FieldSpec("total", "number", required=True),)),
)


def test_a_valid_record_has_no_violations() -> None:
    record = {
        "email": "a@b.c",
        "age": 41.5,
        "vip": False,
        "since": "2024-05-01T10:00:00Z",
        "tags": ["x", 1],
        "address": {"city": "Prague"},
        "orders": [{"total": 3}, {"total": 4.5}],
    }
    assert validate_record(record, STRUCTURE) == []
    assert validate_record({"email": "a", "age": None}, STRUCTURE) == []  # null = not set


@pytest.mark.parametrize(
    ("record", "violations"),
    [
        ({}, [("data.email", "is required")]),
        ({"email": 5}, [("data.email", "must be text")]),
        ({"email": "a", "age": "41"}, [("data.age", "must be a number")]),
        ({"email": "a", "age": True}, [("data.age", "must be a number")]),
        ({"email": "a", "vip": "yes"}, [("data.vip", "must be true or false")]),
        (
            {"email": "a", "since": "yesterday"},
            [("data.since", "must be an ISO 8601 date or date-time text")],
        ),
        ({"email": "a", "tags": "x"}, [("data.tags", "must be an array")]),
        ({"email": "a", "address": {}}, [("data.address.city", "is required")]),
        ({"email": "a", "address": []}, [("data.address", "must be an object (collection)")]),
        (
            {"email": "a", "orders": [{"total": 1}, {"total": "2"}]},
            [("data.orders[2].total", "must be a number")],
        ),
        ({"email": "a", "nope": 1}, [("data.nope", "is not a field of this data store")]),
    ],
)
def test_violations_name_the_field(record: dict[str, Any], violations: list[Any]) -> None:
    assert validate_record(record, STRUCTURE) == violations


def test_every_problem_is_reported_at_once() -> None:
    found = validate_record({"age": "x", "vip": 1, "extra": 0}, STRUCTURE)
    assert {path for path, _ in found} == {"data.extra", "data.email", "data.age", "data.vip"}


def test_parse_fields_round_trips_through_json() -> None:
    messages = [
        Field(name="email", type="text", required=True, label="E-mail"),
        Field(name="address", type="collection", fields=[Field(name="city", type="text")]),
    ]
    structure, problems = parse_fields(messages)
    assert problems == []
    assert from_json(s.as_json() for s in structure) == structure
    assert structure[1].as_message().fields[0].name == "city"


def test_parse_fields_refuses_bad_structures() -> None:
    messages = [
        Field(name="a", type="text"),
        Field(name="a", type="text"),
        Field(name="1x", type="blob"),
        Field(name="c", type="text", fields=[Field(name="d", type="text")]),
    ]
    _, problems = parse_fields(messages)
    assert problems == [
        ("fields[1].name", "duplicate field name 'a'"),
        ("fields[2].name", "must be a letter or _ then letters, digits or _"),
        ("fields[2].type", "must be one of array, boolean, collection, date, number, text"),
        ("fields[3].fields", "only array and collection fields have children"),
    ]
