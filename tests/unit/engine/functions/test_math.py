"""Math functions, with the examples from help.make.com/math-functions."""

from __future__ import annotations

import math
from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.iml.functions import lookup


def call(name: str, *args: Any, ctx: EvalContext | None = None) -> Any:
    return lookup(name).call(ctx or EvalContext(), list(args))


class TestRounding:
    @pytest.mark.parametrize(
        ("fn", "value", "expected"),
        [
            # Make: ceil(1.2) = 2, ceil(4) = 4; floor(1.2) = 1, floor(1.8) = 1, floor(4) = 4
            ("ceil", 1.2, 2),
            ("ceil", 4, 4),
            ("floor", 1.2, 1),
            ("floor", 1.8, 1),
            ("floor", 4, 4),
            ("ceil", -1.2, -1),
            ("floor", -1.2, -2),
            # Make: round(1.2) = 1, round(1.5) = 2, round(1.7) = 2, round(2) = 2
            ("round", 1.2, 1),
            ("round", 1.5, 2),
            ("round", 1.7, 2),
            ("round", 2, 2),
            ("abs", -4.5, 4.5),
            ("abs", 7, 7),
        ],
    )
    def test_documented(self, fn: str, value: float, expected: float) -> None:
        result = call(fn, value)
        assert result == expected
        assert type(result) is type(expected)

    @pytest.mark.parametrize(
        ("value", "expected"), [(-2.5, -2), (2.5, 3), (-2.6, -3), (0.49999999999999994, 0)]
    )
    def test_round_is_javascript_math_round(self, value: float, expected: int) -> None:
        # Halves go towards +infinity, never banker's rounding.
        assert call("round", value) == expected

    def test_text_numbers_are_read(self) -> None:
        assert call("ceil", "1.2") == 2
        assert call("abs", " -3 ") == 3

    @pytest.mark.parametrize("bad", ["abc", None, [1], {"a": 1}])
    def test_not_a_number(self, bad: Any) -> None:
        with pytest.raises(ExpressionError, match="abs\\(\\)"):
            call("abs", bad)

    def test_infinity_passes_through(self) -> None:
        assert call("floor", math.inf) == math.inf


class TestTrunc:
    def test_documented(self) -> None:
        # Make: trunc(3.789) = 3, trunc(3.789; 2) = 3.78
        assert call("trunc", 3.789) == 3
        assert call("trunc", 3.789, 2) == 3.78

    def test_negative_numbers_go_towards_zero(self) -> None:
        assert call("trunc", -3.789) == -3
        assert call("trunc", -3.789, 1) == -3.7

    def test_negative_precision(self) -> None:
        assert call("trunc", 1234.5, -2) == 1200

    def test_no_float_artifacts(self) -> None:
        assert call("trunc", 1.1, 1) == 1.1

    def test_bad_precision(self) -> None:
        with pytest.raises(ExpressionError, match="precision"):
            call("trunc", 1.5, "x")
        with pytest.raises(ExpressionError, match="precision"):
            call("trunc", 1.5, 10**6)


class TestAggregates:
    def test_documented_varargs(self) -> None:
        # Make: sum(1; 2; 3; 4; 5) = 15, average(1; 2; 3; 4; 5) = 3
        assert call("sum", 1, 2, 3, 4, 5) == 15
        assert call("average", 1, 2, 3, 4, 5) == 3
        assert call("max", 5, 7, 2) == 7
        assert call("min", 5, 7, 2) == 2

    def test_arrays(self) -> None:
        # Make: sum([array]) - one array argument, as mapped from an aggregator.
        assert call("sum", [1, 2.5, "3"]) == 6.5
        assert call("average", [2, 4]) == 3
        assert call("median", [3, 1, 2]) == 2
        assert call("median", [1, 2, 3, 4]) == 2.5
        assert call("max", [1, "10", 9]) == 10

    def test_stdev(self) -> None:
        # Make: stdevP(1; 2; 3) = 0.816496580927726, stdevS(1; 2; 3) = 1
        assert call("stdevP", 1, 2, 3) == pytest.approx(0.816496580927726)
        assert call("stdevS", [1, 2, 3]) == 1

    def test_empty_values_are_skipped(self) -> None:
        assert call("sum", [1, None, "", 2]) == 3

    def test_empty_input(self) -> None:
        assert call("sum", []) == 0
        assert call("average", []) is None
        assert call("max", []) is None
        assert call("stdevS", [4]) is None

    def test_precise_float_sum(self) -> None:
        assert call("sum", [0.1] * 10) == 1

    def test_bad_values(self) -> None:
        with pytest.raises(ExpressionError, match="'abc' is not a valid number"):
            call("sum", [1, "abc"])
        with pytest.raises(ExpressionError, match="must be a number"):
            call("max", [[1, 2]])


class TestFormatNumber:
    def test_documented(self) -> None:
        # Make: formatNumber(123456789; 3; ,; .) = 123.456.789,000
        assert call("formatNumber", 123456789, 3, ",", ".") == "123.456.789,000"

    def test_default_separators(self) -> None:
        # The spec's example: formatNumber(1234.5; 2) = "1.234,50"
        assert call("formatNumber", 1234.5, 2) == "1.234,50"

    def test_english_separators(self) -> None:
        assert call("formatNumber", 1234567.891, 2, ".", ",") == "1,234,567.89"

    def test_no_decimals(self) -> None:
        assert call("formatNumber", 1234.5, 0) == "1.235"

    def test_half_up_on_the_written_value(self) -> None:
        assert call("formatNumber", 1.005, 2) == "1,01"

    def test_negative_and_small(self) -> None:
        assert call("formatNumber", -1234.5, 1) == "-1.234,5"
        assert call("formatNumber", 5, 2) == "5,00"
        assert call("formatNumber", 999, 0, ",", "") == "999"

    def test_text_input(self) -> None:
        assert call("formatNumber", "1000", 0) == "1.000"

    def test_errors(self) -> None:
        with pytest.raises(ExpressionError, match="not a valid number"):
            call("formatNumber", "abc", 2)
        with pytest.raises(ExpressionError, match="decimalPoints"):
            call("formatNumber", 1, 101)
        with pytest.raises(ExpressionError, match="decimalPoints"):
            call("formatNumber", 1, "two")
        with pytest.raises(ExpressionError, match="cannot use"):
            call("formatNumber", math.nan, 2)

    def test_limit(self) -> None:
        ctx = EvalContext(limits=Limits(max_text_length=10))
        with pytest.raises(ExpressionLimitError):
            call("formatNumber", 10**12, 2, ctx=ctx)


class TestParseNumber:
    def test_documented(self) -> None:
        # Make: parseNumber(1 756 456,98; ",") = 1756456.98
        assert call("parseNumber", "1 756 456,98", ",") == 1756456.98

    def test_dot_decimal(self) -> None:
        assert call("parseNumber", "1,756,456.98", ".") == 1756456.98
        assert call("parseNumber", "-12") == -12

    def test_number_passes_through(self) -> None:
        assert call("parseNumber", 3.5, ",") == 3.5

    def test_invalid(self) -> None:
        with pytest.raises(ExpressionError, match="not a valid number"):
            call("parseNumber", "abc", ",")
        with pytest.raises(ExpressionError, match="not a valid number"):
            call("parseNumber", "", ",")
