"""Array functions, with the examples from help.make.com/array-functions."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.iml.functions import lookup


def call(name: str, *args: Any, ctx: EvalContext | None = None) -> Any:
    return lookup(name).call(ctx or EvalContext(), list(args))


def small(max_array: int = 3, max_text: int = 10) -> EvalContext:
    return EvalContext(limits=Limits(max_array_length=max_array, max_text_length=max_text))


CONTACTS = [
    {"name": "adam", "email": "adam@example.com", "label": "work", "age": 40},
    {"name": "Eve", "email": "eve@example.com", "label": "home", "age": 7},
    {"name": "bob", "email": "bob@example.com", "label": "other", "age": 22},
    {"name": "Eve", "email": "eve2@example.com", "label": "work", "age": 31},
]


class TestBuilding:
    def test_add(self) -> None:
        # Make: add(array; value1; value2; ...)
        assert call("add", [1, 2], 3, "four") == [1, 2, 3, "four"]
        assert call("add", None, 1) == [1]

    def test_add_does_not_modify_input(self) -> None:
        items = [1]
        call("add", items, 2)
        assert items == [1]

    def test_merge(self) -> None:
        # Make: merge(array1; array2; ...)
        assert call("merge", [1, 2], [3], [], [4]) == [1, 2, 3, 4]

    def test_merge_rejects_non_arrays(self) -> None:
        with pytest.raises(ExpressionError, match="argument 2 must be an array, got text"):
            call("merge", [1], "x")

    def test_flatten_one_level(self) -> None:
        # As Make (JavaScript's flat()): one level only.
        assert call("flatten", [[1, 2], [3, [4]], 5]) == [1, 2, 3, [4], 5]

    def test_size_limits(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("add", [1, 2, 3], 4, ctx=small())
        with pytest.raises(ExpressionLimitError):
            call("merge", [1, 2], [3, 4], ctx=small())
        with pytest.raises(ExpressionLimitError):
            call("flatten", [[1, 2], [3, 4]], ctx=small())

    def test_wrong_type(self) -> None:
        with pytest.raises(ExpressionError, match="add\\(\\): array must be an array, got text"):
            call("add", "abc", 1)


class TestRemovingAndComparing:
    def test_remove(self) -> None:
        # Make: remove(array; value1; value2; ...) on arrays of text or numbers
        assert call("remove", ["a", "b", "c", "a"], "a", "c") == ["b"]
        assert call("remove", [1, 2, 3], 2) == [1, 3]

    def test_strict_equality(self) -> None:
        assert call("remove", [1, "1", 1.0, True], 1) == ["1", True]

    def test_array_diff_and_intersect(self) -> None:
        assert call("arrayDiff", [1, 2, 3, 4], [2, 4]) == [1, 3]
        assert call("arrayIntersect", [1, 2, 3, 4], [4, 2, 9]) == [2, 4]
        assert call("arrayDiff", [{"id": 1}, {"id": 2}], [{"id": 2}]) == [{"id": 1}]

    def test_deduplicate(self) -> None:
        # Make: deduplicate(array) removes duplicates
        assert call("deduplicate", [1, "a", 1, "a", "A", {"x": 1}, {"x": 1}]) == [
            1,
            "a",
            "A",
            {"x": 1},
        ]

    def test_collections_compare_regardless_of_key_order(self) -> None:
        assert call("deduplicate", [{"a": 1, "b": 2}, {"b": 2, "a": 1}]) == [{"a": 1, "b": 2}]

    def test_distinct_by_key(self) -> None:
        # Make: distinct(Contacts[]; name) keeps the first contact of each name
        names = [item["email"] for item in call("distinct", CONTACTS, "name")]
        assert names == ["adam@example.com", "eve@example.com", "bob@example.com"]

    def test_distinct_without_key(self) -> None:
        assert call("distinct", [3, 3, 1]) == [3, 1]

    def test_deep_nesting_is_a_limit(self) -> None:
        deep: Any = 1
        for _ in range(500):
            deep = [deep]
        with pytest.raises(ExpressionLimitError):
            call("deduplicate", [deep])


class TestPicking:
    def test_first_last(self) -> None:
        # Make: first(array), last(array)
        assert call("first", [1, 2, 3]) == 1
        assert call("last", [1, 2, 3]) == 3
        assert call("first", []) is None
        assert call("last", None) is None

    def test_first_of_text_is_a_type_error(self) -> None:
        with pytest.raises(ExpressionError, match="first\\(\\): array must be an array"):
            call("first", "abc")

    def test_slice(self) -> None:
        # Make: slice(array; start; [end]) counts from 0
        assert call("slice", [1, 2, 3, 4, 5], 1, 3) == [2, 3]
        assert call("slice", [1, 2, 3, 4, 5], 2) == [3, 4, 5]
        assert call("slice", [1, 2, 3, 4, 5], -2) == [4, 5]
        assert call("slice", [1, 2, 3, 4, 5], 1, -1) == [2, 3, 4]
        assert call("slice", [1, 2, 3], 5) == []

    def test_slice_bad_index(self) -> None:
        with pytest.raises(ExpressionError, match="start must be a number"):
            call("slice", [1], "x")

    def test_reverse(self) -> None:
        assert call("reverse", [1, 2, 3]) == [3, 2, 1]

    def test_shuffle_is_deterministic_per_seed(self) -> None:
        items = list(range(20))
        first = lookup("shuffle").call(EvalContext(seed=7), [items])
        again = lookup("shuffle").call(EvalContext(seed=7), [items])
        assert first == again
        assert sorted(first) == items
        assert first != items
        assert items == list(range(20))


class TestJoinKeys:
    def test_join(self) -> None:
        # Make: join(array; separator)
        assert call("join", ["John", "George", "Paul"], ", ") == "John, George, Paul"
        assert call("join", [1, None, True, {"a": 1}], "|") == '1||true|{"a":1}'
        assert call("join", ["a", "b"]) == "a,b"

    def test_join_limit(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("join", ["aaaa", "bbbb", "cccc"], "--", ctx=small())

    def test_keys(self) -> None:
        # Make: keys(object) returns the object's keys
        assert call("keys", {"a": 1, "b": 2}) == ["a", "b"]
        assert call("keys", ["x", "y"]) == ["0", "1"]
        assert call("keys", None) == []
        with pytest.raises(ExpressionError, match="collection"):
            call("keys", "text")


class TestMap:
    ATTACHMENTS: ClassVar[list[dict[str, str]]] = [
        {"fileName": "a.png", "mimeType": "image/png"},
        {"fileName": "b.pdf", "mimeType": "application/pdf"},
        {"fileName": "c.jpg", "mimeType": "image/jpeg"},
        {"fileName": "d.png", "mimeType": "image/png"},
    ]

    def test_documented(self) -> None:
        # Make: map(2.attachments; "fileName"; "mimeType"; "image/png")
        result = call("map", self.ATTACHMENTS, "fileName", "mimeType", "image/png")
        assert result == ["a.png", "d.png"]

    def test_without_filter(self) -> None:
        # Make: map(Emails[]; email) returns a primitive array of emails
        assert call("map", CONTACTS, "email")[:2] == ["adam@example.com", "eve@example.com"]

    def test_comma_separated_filter_values(self) -> None:
        # Make: map(Emails[]; email; label; work,home)
        result = call("map", CONTACTS, "email", "label", "work,home")
        assert result == ["adam@example.com", "eve@example.com", "eve2@example.com"]
        assert call("map", CONTACTS, "name", "label", ["other"]) == ["bob"]

    def test_nested_key_and_missing_keys(self) -> None:
        items = [{"sender": {"name": "A"}}, {"other": 1}, "scalar", {"sender": {"name": None}}]
        assert call("map", items, "sender.name") == ["A", None]

    def test_number_filter_values_compare_as_text(self) -> None:
        assert call("map", CONTACTS, "name", "age", "7,22") == ["Eve", "bob"]


class TestSort:
    def test_case_sensitive_by_default(self) -> None:
        # Make: sort is case-sensitive by default; ascending puts upper case first.
        assert call("sort", ["banana", "apple", "Cherry", "Apple"]) == [
            "Apple",
            "Cherry",
            "apple",
            "banana",
        ]

    def test_orders(self) -> None:
        # Make: sort(array; [asc|desc|asc ci|desc ci]; [key])
        words = ["b", "a", "B", "A"]
        assert call("sort", words, "desc") == ["b", "a", "B", "A"]
        assert call("sort", words, "asc ci") == ["a", "A", "b", "B"]
        assert call("sort", words, "desc ci") == ["b", "B", "a", "A"]

    def test_numbers_sort_numerically(self) -> None:
        assert call("sort", [10, 9, 100, 1.5]) == [1.5, 9, 10, 100]
        assert call("sort", [3, "b", None, 1, "a"]) == [1, 3, "a", "b", None]

    def test_by_key(self) -> None:
        # Make: sort(Contacts[]; name), sort(Contacts[]; desc; name)
        assert [c["email"][:3] for c in call("sort", CONTACTS, "name")] == [
            "eve",
            "eve",
            "ada",
            "bob",
        ]
        assert [c["age"] for c in call("sort", CONTACTS, "desc", "age")] == [40, 31, 22, 7]
        assert [c["name"] for c in call("sort", CONTACTS, "asc ci", "name")] == [
            "adam",
            "bob",
            "Eve",
            "Eve",
        ]

    def test_stable(self) -> None:
        items = [{"k": 1, "i": 1}, {"k": 0, "i": 2}, {"k": 1, "i": 3}]
        assert [x["i"] for x in call("sort", items, "desc", "k")] == [1, 3, 2]

    def test_bad_order(self) -> None:
        with pytest.raises(ExpressionError, match="order must be asc, desc"):
            call("sort", [1], "sideways", "key")


class TestCollections:
    def test_to_array(self) -> None:
        # Make: toArray(collection) -> [{key, value}, ...]
        assert call("toArray", {"name": "Ada", "age": 36}) == [
            {"key": "name", "value": "Ada"},
            {"key": "age", "value": 36},
        ]
        with pytest.raises(ExpressionError, match="collection"):
            call("toArray", [1])

    def test_to_collection(self) -> None:
        # Make: toCollection(array; key; value)
        pairs = [{"key": "name", "value": "Ada"}, {"key": "age", "value": 36}]
        assert call("toCollection", pairs, "key", "value") == {"name": "Ada", "age": 36}

    def test_round_trip(self) -> None:
        data = {"a": 1, "b": [2]}
        assert call("toCollection", call("toArray", data), "key", "value") == data

    def test_to_collection_skips_items_without_key(self) -> None:
        pairs = [{"k": "x", "v": 1}, {"v": 2}, {"k": 3}]
        assert call("toCollection", pairs, "k", "v") == {"x": 1, "3": None}

    def test_to_collection_rejects_scalars(self) -> None:
        with pytest.raises(ExpressionError, match="item 1 must be a collection"):
            call("toCollection", ["a"], "k", "v")
