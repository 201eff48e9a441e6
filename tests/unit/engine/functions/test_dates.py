"""IML date and time functions, checked against the examples on Make's help pages.

Examples quoted from help.make.com "Date and time functions" keep Make's notation in the
test ids; "1. Date created" there is 2018-10-01 09:32 in Europe/Prague (07:32Z).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions import FUNCTIONS, lookup
from scenarist_engine.iml.values import to_text

PRAGUE = "Europe/Prague"
NOW = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)


def call(name: str, *args: Any, tz: str = "UTC") -> Any:
    return lookup(name).call(EvalContext(timezone=tz, now=NOW), list(args))


def iso(name: str, *args: Any, tz: str = "UTC") -> str:
    result = call(name, *args, tz=tz)
    assert isinstance(result, datetime)
    assert result.tzinfo is not None
    return to_text(result)


DATE_FUNCTIONS = [
    "formatDate",
    "parseDate",
    "addSeconds",
    "addMinutes",
    "addHours",
    "addDays",
    "addMonths",
    "addYears",
    "setSecond",
    "setMinute",
    "setHour",
    "setDay",
    "setDate",
    "setMonth",
    "setYear",
]


def test_every_date_function_is_registered_in_the_date_category() -> None:
    for name in DATE_FUNCTIONS:
        spec = FUNCTIONS[name]
        assert spec.category == "date"
        assert spec.signature.startswith(f"{name}(")
        assert spec.description


# -- key acceptance example ------------------------------------------------------------------


def test_parse_then_format_round_trip() -> None:
    parsed = call("parseDate", "2026-01-31", "YYYY-MM-DD")
    assert call("formatDate", parsed, "DD.MM.YYYY") == "31.01.2026"


# -- formatDate --------------------------------------------------------------------------------

DATE_CREATED = "2018-10-01T07:32:00.000Z"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("MM/DD/YYYY",), "10/01/2018", id="formatDate(1. Date created; MM/DD/YYYY)"),
        pytest.param(
            ("YYYY-MM-DD hh:mm A",),
            "2018-10-01 09:32 AM",
            id="formatDate(1. Date created; YYYY-MM-DD hh:mm A)",
        ),
        pytest.param(
            ("DD.MM.YYYY HH:mm", "UTC"),
            "01.10.2018 07:32",
            id="formatDate(1. Date created; DD.MM.YYYY HH:mm; UTC)",
        ),
    ],
)
def test_format_date_documented_examples(args: tuple[str, ...], expected: str) -> None:
    assert call("formatDate", DATE_CREATED, *args, tz=PRAGUE) == expected


def test_format_date_timezone_argument_overrides_the_scenario_zone() -> None:
    assert call("formatDate", DATE_CREATED, "HH:mm z", "America/New_York") == "03:32 EDT"
    assert call("formatDate", DATE_CREATED, "HH:mm", "", tz=PRAGUE) == "09:32"
    assert call("formatDate", DATE_CREATED, "HH:mm", None, tz=PRAGUE) == "09:32"


def test_format_date_always_returns_text_even_for_x() -> None:
    assert call("formatDate", DATE_CREATED, "X") == "1538379120"
    assert call("formatDate", DATE_CREATED, "x") == "1538379120000"


def test_format_date_accepts_dates_numbers_and_text() -> None:
    as_date = datetime(2018, 10, 1, 7, 32, tzinfo=UTC)
    assert call("formatDate", as_date, "YYYY-MM-DD HH:mm") == "2018-10-01 07:32"
    assert call("formatDate", 1538379120000, "YYYY-MM-DD HH:mm") == "2018-10-01 07:32"
    assert call("formatDate", "1538379120000", "YYYY-MM-DD HH:mm") == "2018-10-01 07:32"


def test_format_date_names_and_escapes() -> None:
    result = call("formatDate", "2026-01-01T18:00:00Z", "dddd, MMMM Do [at] h A")
    assert result == "Thursday, January 1st at 6 PM"


def test_format_date_of_an_empty_value_is_empty() -> None:
    assert call("formatDate", None, "YYYY") is None
    assert call("formatDate", "", "YYYY") is None


@pytest.mark.parametrize("bad", ["not a date", True, [1], {"a": 1}])
def test_format_date_rejects_non_dates(bad: Any) -> None:
    with pytest.raises(ExpressionError, match="formatDate"):
        call("formatDate", bad, "YYYY")


def test_format_date_rejects_unknown_time_zones() -> None:
    with pytest.raises(ExpressionError, match="time zone"):
        call("formatDate", DATE_CREATED, "YYYY", "Nowhere/City")


# -- parseDate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("2016-12-28", "YYYY-MM-DD"), "2016-12-28T00:00:00.000Z",
                     id="parseDate(2016-12-28; YYYY-MM-DD)"),
        pytest.param(("2016-12-28 16:03", "YYYY-MM-DD HH:mm"), "2016-12-28T16:03:00.000Z",
                     id="parseDate(2016-12-28 16:03; YYYY-MM-DD HH:mm)"),
        pytest.param(("2016-12-28 4:03 PM", "YYYY-MM-DD h:mm A"), "2016-12-28T16:03:00.000Z",
                     id="parseDate(2016-12-28 4:03 PM; YYYY-MM-DD h:mm A)"),
        pytest.param(("1482940980", "X"), "2016-12-28T16:03:00.000Z",
                     id="parseDate(1482940980; X)"),
    ],
)  # fmt: skip
def test_parse_date_documented_examples(args: tuple[str, ...], expected: str) -> None:
    assert iso("parseDate", *args) == expected


def test_parse_date_with_time_zone() -> None:
    assert iso("parseDate", "31/01/2026 14:05", "DD/MM/YYYY HH:mm", PRAGUE) == (
        "2026-01-31T13:05:00.000Z"
    )
    # Without the argument the scenario's zone applies.
    assert iso("parseDate", "31/01/2026 14:05", "DD/MM/YYYY HH:mm", tz=PRAGUE) == (
        "2026-01-31T13:05:00.000Z"
    )


def test_parse_date_unix_tokens_take_numbers() -> None:
    assert iso("parseDate", 1482940980, "X") == "2016-12-28T16:03:00.000Z"
    assert iso("parseDate", 1482940980123, "x") == "2016-12-28T16:03:00.123Z"


def test_parse_date_without_format_reads_iso() -> None:
    assert iso("parseDate", "2026-01-31T10:00:00+01:00") == "2026-01-31T09:00:00.000Z"
    assert iso("parseDate", "2026-01-31", "", tz=PRAGUE) == "2026-01-30T23:00:00.000Z"


def test_parse_date_missing_date_parts_come_from_the_run_clock() -> None:
    assert iso("parseDate", "14:30", "HH:mm") == "2026-05-06T14:30:00.000Z"


def test_parse_date_dst_gap_moves_forward_and_overlap_takes_first() -> None:
    fmt = "YYYY-MM-DD HH:mm"
    assert iso("parseDate", "2026-03-29 02:30", fmt, PRAGUE) == "2026-03-29T01:30:00.000Z"
    assert iso("parseDate", "2026-10-25 02:30", fmt, PRAGUE) == "2026-10-25T00:30:00.000Z"


def test_parse_date_passes_dates_through_and_empty_gives_empty() -> None:
    value = datetime(2026, 1, 31, tzinfo=UTC)
    assert call("parseDate", value, "YYYY") == value
    assert call("parseDate", None, "YYYY") is None
    assert call("parseDate", "", "YYYY") is None


@pytest.mark.parametrize(
    ("text", "fmt"),
    [("hello", "YYYY-MM-DD"), ("2026-02-30", "YYYY-MM-DD"), ("31.13.2026", "DD.MM.YYYY"),
     ("yesterday", "")],
)  # fmt: skip
def test_parse_date_rejects_invalid_text(text: str, fmt: str) -> None:
    with pytest.raises(ExpressionError):
        call("parseDate", text, fmt)


# -- add* --------------------------------------------------------------------------------------

BASE = "2016-12-08T15:55:57.536Z"


@pytest.mark.parametrize(
    ("name", "date", "amount", "expected"),
    [
        ("addDays", BASE, 2, "2016-12-10T15:55:57.536Z"),
        ("addDays", BASE, -2, "2016-12-06T15:55:57.536Z"),
        ("addHours", BASE, 2, "2016-12-08T17:55:57.536Z"),
        ("addHours", BASE, -2, "2016-12-08T13:55:57.536Z"),
        ("addMinutes", BASE, 2, "2016-12-08T15:57:57.536Z"),
        ("addMinutes", BASE, -2, "2016-12-08T15:53:57.536Z"),
        ("addSeconds", BASE, 2, "2016-12-08T15:55:59.536Z"),
        ("addSeconds", BASE, -2, "2016-12-08T15:55:55.536Z"),
        ("addMonths", "2016-08-08T15:55:57.536Z", 2, "2016-10-08T15:55:57.536Z"),
        ("addMonths", "2016-08-08T15:55:57.536Z", -2, "2016-06-08T15:55:57.536Z"),
        ("addYears", "2016-08-08T15:55:57.536Z", 2, "2018-08-08T15:55:57.536Z"),
        ("addYears", "2016-08-08T15:55:57.536Z", -2, "2014-08-08T15:55:57.536Z"),
    ],
    ids=str,
)
def test_add_documented_examples(name: str, date: str, amount: int, expected: str) -> None:
    assert iso(name, date, amount) == expected


@pytest.mark.parametrize(
    ("date", "months", "expected"),
    [
        ("2026-01-31T10:00:00Z", 1, "2026-02-28T10:00:00.000Z"),
        ("2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00.000Z"),
        ("2026-03-31T10:00:00Z", -1, "2026-02-28T10:00:00.000Z"),
        ("2026-05-31T10:00:00Z", 1, "2026-06-30T10:00:00.000Z"),
        ("2026-01-31T10:00:00Z", 13, "2027-02-28T10:00:00.000Z"),
        ("2026-01-15T10:00:00Z", -13, "2024-12-15T10:00:00.000Z"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(date: str, months: int, expected: str) -> None:
    assert iso("addMonths", date, months) == expected


def test_add_years_from_a_leap_day() -> None:
    assert iso("addYears", "2024-02-29T00:00:00Z", 1) == "2025-02-28T00:00:00.000Z"
    assert iso("addYears", "2024-02-29T00:00:00Z", 4) == "2028-02-29T00:00:00.000Z"


def test_add_accepts_numeric_text_and_rounds_calendar_units_like_moment() -> None:
    assert iso("addDays", BASE, "2") == "2016-12-10T15:55:57.536Z"
    assert iso("addDays", BASE, 1.5) == "2016-12-10T15:55:57.536Z"
    assert iso("addDays", BASE, 1.4) == "2016-12-09T15:55:57.536Z"
    assert iso("addHours", BASE, 1.5) == "2016-12-08T17:25:57.536Z"
    assert iso("addYears", "2016-08-08T00:00:00Z", 0.5) == "2017-02-08T00:00:00.000Z"


def test_add_days_keeps_the_wall_clock_across_dst() -> None:
    # Prague moves to summer time on 2026-03-29: noon + 1 day is noon again, 23 hours later.
    start = "2026-03-28T11:00:00Z"  # 12:00 CET
    assert iso("addDays", start, 1, tz=PRAGUE) == "2026-03-29T10:00:00.000Z"  # 12:00 CEST
    assert call("formatDate", call("addDays", start, 1, tz=PRAGUE), "HH:mm", tz=PRAGUE) == "12:00"
    # Elapsed-time units do not: 24 hours later is 13:00 CEST.
    assert iso("addHours", start, 24, tz=PRAGUE) == "2026-03-29T11:00:00.000Z"
    # In UTC the same call is plain 24 hours.
    assert iso("addDays", start, 1) == "2026-03-29T11:00:00.000Z"


def test_add_days_into_a_dst_gap_moves_forward() -> None:
    # 02:30 CET on 2026-03-28 + 1 day is 02:30 on the 29th, which Prague skips: 03:30 CEST.
    assert iso("addDays", "2026-03-28T01:30:00Z", 1, tz=PRAGUE) == "2026-03-29T01:30:00.000Z"


def test_add_days_keeps_the_occurrence_of_a_repeated_hour() -> None:
    # 02:30 CET, the second 02:30 on 2026-10-25; setting seconds must not jump back an hour.
    second = "2026-10-25T01:30:00Z"
    assert iso("setSecond", second, 15, tz=PRAGUE) == "2026-10-25T01:30:15.000Z"
    # Landing on the repeated hour from an ordinary time takes the first occurrence.
    assert iso("addDays", "2026-10-24T00:30:00Z", 1, tz=PRAGUE) == "2026-10-25T00:30:00.000Z"


@pytest.mark.parametrize("name", ["addDays", "addHours", "addMonths"])
def test_add_rejects_non_numbers_and_non_dates(name: str) -> None:
    with pytest.raises(ExpressionError):
        call(name, BASE, "two")
    with pytest.raises(ExpressionError, match=name):
        call(name, "someday", 1)


def test_add_out_of_range_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="out of range"):
        call("addYears", BASE, 10_000)
    with pytest.raises(ExpressionError, match="out of range"):
        call("addSeconds", BASE, 1e15)


def test_add_to_an_empty_value_is_empty() -> None:
    assert call("addDays", None, 1) is None
    assert call("addHours", "", 1) is None


# -- set* --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "date", "value", "expected"),
    [
        ("setSecond", "2015-10-07T11:36:39.138Z", 10, "2015-10-07T11:36:10.138Z"),
        ("setSecond", "2015-10-07T11:36:39.138Z", 61, "2015-10-07T11:37:01.138Z"),
        ("setMinute", "2015-10-07T11:36:39.138Z", 10, "2015-10-07T11:10:39.138Z"),
        ("setMinute", "2015-10-07T11:36:39.138Z", 61, "2015-10-07T12:01:39.138Z"),
        ("setHour", "2015-08-07T11:36:39.138Z", 6, "2015-08-07T06:36:39.138Z"),
        ("setHour", "2015-08-07T11:36:39.138Z", -6, "2015-08-06T18:36:39.138Z"),
        ("setDay", "2018-06-27T11:36:39.138Z", "monday", "2018-06-25T11:36:39.138Z"),
        ("setDay", "2018-06-27T11:36:39.138Z", 1, "2018-06-24T11:36:39.138Z"),
        ("setDay", "2018-06-27T11:36:39.138Z", 7, "2018-06-30T11:36:39.138Z"),
        ("setDate", "2015-08-07T11:36:39.138Z", 5, "2015-08-05T11:36:39.138Z"),
        ("setDate", "2015-08-07T11:36:39.138Z", 32, "2015-09-01T11:36:39.138Z"),
        ("setMonth", "2015-08-07T11:36:39.138Z", 5, "2015-05-07T11:36:39.138Z"),
        ("setMonth", "2015-08-07T11:36:39.138Z", "january", "2015-01-07T11:36:39.138Z"),
        ("setYear", "2015-08-07T11:36:39.138Z", 2017, "2017-08-07T11:36:39.138Z"),
    ],
    ids=str,
)
def test_set_documented_examples(name: str, date: str, value: Any, expected: str) -> None:
    assert iso(name, date, value) == expected


def test_set_hour_rolls_over_into_the_next_day() -> None:
    assert iso("setHour", "2015-08-07T11:36:39.138Z", 25) == "2015-08-08T01:36:39.138Z"
    assert iso("setMinute", "2015-08-07T11:36:39.138Z", -1) == "2015-08-07T10:59:39.138Z"
    assert iso("setSecond", "2015-08-07T11:36:39.138Z", 3600) == "2015-08-07T12:36:00.138Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Sunday", "2018-06-24"), ("sun", "2018-06-24"), ("SATURDAY", "2018-06-30"),
     ("Tu", "2018-06-26"), ("wed", "2018-06-27"), ("4", "2018-06-27"), (0, "2018-06-23"),
     (8, "2018-07-01"), (-6, "2018-06-17")],
)  # fmt: skip
def test_set_day_names_and_numbers(value: Any, expected: str) -> None:
    assert iso("setDay", "2018-06-27T11:36:39.138Z", value).startswith(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("February", "2015-02-28"), ("feb", "2015-02-28"), (13, "2016-01-31"), (0, "2014-12-31"),
     ("12", "2015-12-31"), (4, "2015-04-30")],
)  # fmt: skip
def test_set_month_names_numbers_and_clamping(value: Any, expected: str) -> None:
    assert iso("setMonth", "2015-08-31T11:00:00Z", value).startswith(expected)


def test_set_date_zero_is_the_last_day_of_the_previous_month() -> None:
    assert iso("setDate", "2024-03-15T00:00:00Z", 0) == "2024-02-29T00:00:00.000Z"


def test_set_year_from_a_leap_day() -> None:
    assert iso("setYear", "2024-02-29T10:00:00Z", 2025) == "2025-02-28T10:00:00.000Z"
    assert iso("setYear", "2024-02-29T10:00:00Z", 2028) == "2028-02-29T10:00:00.000Z"


def test_set_works_on_the_scenario_wall_clock() -> None:
    # 23:30Z on Jan 31 is already Feb 1 in Prague; setHour(…; 6) is 06:00 Prague on Feb 1.
    assert iso("setHour", "2026-01-31T23:30:00Z", 6, tz=PRAGUE) == "2026-02-01T05:30:00.000Z"
    assert iso("setHour", "2026-01-31T23:30:00Z", 6) == "2026-01-31T06:30:00.000Z"
    # Setting an hour that the DST change skips moves forward.
    assert iso("setHour", "2026-03-29T00:15:00Z", 2, tz=PRAGUE) == "2026-03-29T01:15:00.000Z"


@pytest.mark.parametrize(
    ("name", "value"),
    [("setDay", "funday"), ("setMonth", "smarch"), ("setHour", "noon"), ("setYear", "")],
)
def test_set_rejects_bad_values(name: str, value: Any) -> None:
    with pytest.raises(ExpressionError, match=name):
        call(name, "2018-06-27T11:36:39.138Z", value)


def test_set_rejects_non_dates_and_passes_empty_through() -> None:
    with pytest.raises(ExpressionError, match="setHour"):
        call("setHour", "teatime", 5)
    assert call("setHour", None, 5) is None


def test_wrong_argument_counts_are_errors() -> None:
    with pytest.raises(ExpressionError, match="arguments"):
        call("addDays", BASE)
    with pytest.raises(ExpressionError, match="arguments"):
        call("formatDate", BASE)
