"""to_json_compatible: converts what JSON cannot hold, and copies only what it converts."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from scenarist_engine.iml.values import to_json_compatible


def test_plain_containers_are_returned_themselves() -> None:
    records = [{"sku": "a", "qty": 1, "price": 1.5, "tags": ["x"]} for _ in range(3)]
    bundle = {"records": records, "ok": True, "none": None}
    assert to_json_compatible(bundle) is bundle
    assert to_json_compatible(records) is records


def test_converts_dates_buffers_non_finite_floats_and_keys() -> None:
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    value = {"at": when, "raw": b"hi", "bad": math.nan, 1: "one", "list": [math.inf, 2]}
    assert to_json_compatible(value) == {
        "at": "2024-05-01T12:30:00.000Z",
        "raw": "hi",
        "bad": None,
        "1": "one",
        "list": [None, 2],
    }


def test_copies_only_the_path_to_a_converted_value() -> None:
    untouched = [{"n": i} for i in range(3)]
    value = {"keep": untouched, "change": [1, datetime(2024, 1, 1, tzinfo=UTC)], "last": "z"}
    converted = to_json_compatible(value)
    assert converted is not value and converted["change"] is not value["change"]
    assert converted["keep"] is untouched  # shared, not copied
    assert list(converted) == ["keep", "change", "last"]  # order kept
    assert converted["change"] == [1, "2024-01-01T00:00:00.000Z"]
    assert value["change"][1] == datetime(2024, 1, 1, tzinfo=UTC)  # the input is not changed


def test_a_key_that_is_not_text_copies_the_dict() -> None:
    value = {"a": 1, 2: "b", "c": [3]}
    converted = to_json_compatible(value)
    assert converted == {"a": 1, "2": "b", "c": [3]} and converted is not value
    assert converted["c"] is value["c"]
