"""General functions, with the examples from help.make.com/general-functions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions import FUNCTIONS, lookup


def call(name: str, *args: Any) -> Any:
    return lookup(name).call(EvalContext(), list(args))


ORDER = {"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}], "customer": {"name": "Ada"}}


class TestGet:
    def test_dot_path_with_one_based_index(self) -> None:
        # Make: get(object; raw_name.sub_raw_name); array indexes start at 1.
        assert call("get", ORDER, "items.1.sku") == "A-1"
        assert call("get", ORDER, "items.2.qty") == 1

    def test_nested_key(self) -> None:
        assert call("get", ORDER, "customer.name") == "Ada"

    def test_array_with_numeric_path(self) -> None:
        # Make: get(array; 1+1) - a number is an index.
        assert call("get", ["a", "b", "c"], 2) == "b"

    def test_bracket_notation(self) -> None:
        assert call("get", ORDER, "items[2].sku") == "B-2"

    @pytest.mark.parametrize("path", ["items.0.sku", "items.3.sku", "missing", "customer.name.x"])
    def test_missing_path_is_null(self, path: str) -> None:
        assert call("get", ORDER, path) is None

    def test_never_python_attributes(self) -> None:
        assert call("get", {"a": "text"}, "a.__class__") is None
        assert call("get", {"a": {}}, "a.keys") is None

    def test_null_object_is_null(self) -> None:
        assert call("get", None, "a") is None

    def test_wrong_types(self) -> None:
        with pytest.raises(ExpressionError, match="collection or an array"):
            call("get", "text", "a")
        with pytest.raises(ExpressionError, match="path"):
            call("get", ORDER, ["items"])


class TestIf:
    def test_documented_examples(self) -> None:
        # Make: if(1 = 1; A; B) = A and if(1 = 2; A; B) = B
        assert call("if", True, "A", "B") == "A"
        assert call("if", False, "A", "B") == "B"

    @pytest.mark.parametrize("condition", [None, "", 0, "false"])
    def test_falsy_conditions(self, condition: Any) -> None:
        assert call("if", condition, "A", "B") == "B"

    @pytest.mark.parametrize("condition", ["yes", 1, [], {}])
    def test_truthy_conditions(self, condition: Any) -> None:
        assert call("if", condition, "A", "B") == "A"


class TestIfempty:
    def test_documented_examples(self) -> None:
        # Make: ifempty(A; B) = A, ifempty(unknown; B) = B, ifempty(""; B) = B
        assert call("ifempty", "A", "B") == "A"
        assert call("ifempty", None, "B") == "B"
        assert call("ifempty", "", "B") == "B"

    def test_empty_array_passes_through(self) -> None:
        # Only "", null and missing are empty: ifempty(emptyarray; B) keeps the array.
        assert call("ifempty", [], "B") == []

    @pytest.mark.parametrize("value", [0, False, " ", {}])
    def test_other_falsy_values_pass_through(self, value: Any) -> None:
        assert call("ifempty", value, "B") == value


class TestSwitch:
    def test_documented_examples(self) -> None:
        # Make: switch(B; A; 1; B; 2; C; 3) = 2, switch(C; A; 1; B; 2; C; 3) = 3,
        # switch(X; A; 1; B; 2; C; 3; 4) = 4
        assert call("switch", "B", "A", 1, "B", 2, "C", 3) == 2
        assert call("switch", "C", "A", 1, "B", 2, "C", 3) == 3
        assert call("switch", "X", "A", 1, "B", 2, "C", 3, 4) == 4

    def test_no_match_without_else_is_null(self) -> None:
        assert call("switch", "X", "A", 1, "B", 2) is None

    def test_loose_equality_like_the_operator(self) -> None:
        assert call("switch", 2, "1", "one", "2", "two") == "two"

    def test_needs_a_pair(self) -> None:
        with pytest.raises(ExpressionError, match=r"takes 3\.\.n arguments"):
            call("switch", "A", "B")


class TestOmitPick:
    USER: ClassVar[dict[str, str]] = {
        "name": "Ada",
        "password": "secret",
        "email": "ada@example.com",
    }

    def test_omit(self) -> None:
        # Make: omit(User; password) returns the collection without password.
        assert call("omit", self.USER, "password") == {"name": "Ada", "email": "ada@example.com"}
        assert call("omit", self.USER, "password", "email") == {"name": "Ada"}

    def test_pick(self) -> None:
        # Make: pick(User; password; email) returns only those keys.
        assert call("pick", self.USER, "password", "email") == {
            "password": "secret",
            "email": "ada@example.com",
        }

    def test_missing_keys_are_ignored(self) -> None:
        assert call("pick", self.USER, "nope") == {}
        assert call("omit", self.USER, "nope") == self.USER

    def test_keys_may_come_as_an_array(self) -> None:
        assert call("pick", self.USER, ["name", "email"]) == {
            "name": "Ada",
            "email": "ada@example.com",
        }

    def test_input_is_not_modified(self) -> None:
        user = dict(self.USER)
        call("omit", user, "password")
        assert user == self.USER

    def test_wrong_type(self) -> None:
        with pytest.raises(ExpressionError, match="collection"):
            call("omit", ["a"], "a")
        with pytest.raises(ExpressionError, match="collection"):
            call("pick", "text", "a")
        with pytest.raises(ExpressionError, match="key must be text"):
            call("pick", self.USER, {"a": 1})


class TestEqual:
    def test_loose_like_the_operator(self) -> None:
        assert call("equal", "1", 1) is True
        assert call("equal", "a", "b") is False
        assert call("equal", [1, 2], [1, 2]) is True


ODD_VALUES: list[Any] = [
    None,
    True,
    -1.5,
    float("nan"),
    10**400,
    "",
    "a,b",
    "/a/g",
    "(",
    [1, "a", None],
    {"a": {"b": 1}},
    b"\xff",
    datetime(2024, 1, 1, tzinfo=UTC),
]
MINE = sorted(
    name
    for name, spec in FUNCTIONS.items()
    if spec.category in {"general", "math", "text", "array"}
)


def test_every_category_function_is_registered() -> None:
    assert len(MINE) == 65


@pytest.mark.parametrize("name", MINE)
def test_odd_values_give_clear_expression_errors(name: str) -> None:
    spec = FUNCTIONS[name]
    counts = {spec.min_args, min(spec.max_args or spec.min_args + 1, 3)}
    for count in counts:
        for args in itertools.product(ODD_VALUES, repeat=min(count, 2)):
            padded = list(args) + [ODD_VALUES[len(args) % len(ODD_VALUES)]] * (count - len(args))
            try:
                spec.call(EvalContext(), padded)
            except ExpressionError as error:
                # The last-resort wrapper's wording means an input shape was not anticipated.
                assert "invalid argument (" not in str(error), (name, padded)
