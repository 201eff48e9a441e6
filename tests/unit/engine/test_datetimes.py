"""The date core: coercion, comparisons, moment.js tokens for formatting and parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.datetime_tokens import ordinal, tokenize
from scenarist_engine.iml.datetimes import (
    compare_dates,
    compare_times,
    format_date,
    get_zone,
    parse_date,
    to_datetime,
)

PRAGUE = "Europe/Prague"
NOW = datetime(2026, 5, 6, 8, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def parse(text: str, fmt: str, tz: str = "UTC") -> datetime:
    return parse_date(text, fmt, tz, now=NOW)


# -- to_datetime ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        ("2026-01-31", "UTC", utc(2026, 1, 31)),
        ("2026-01-31", PRAGUE, utc(2026, 1, 30, 23)),
        ("2026-01-31T10:00:00Z", PRAGUE, utc(2026, 1, 31, 10)),
        ("2026-01-31T10:00:00.250+02:00", "UTC", utc(2026, 1, 31, 8, 0, 0, 250_000)),
        ("2026-07-01 10:00", PRAGUE, utc(2026, 7, 1, 8)),
        ("  2026-01-31T10:00:00Z  ", "UTC", utc(2026, 1, 31, 10)),
        ("Tue, 01 Dec 2026 10:00:00 GMT", "UTC", utc(2026, 12, 1, 10)),
        (1482940980000, "UTC", utc(2016, 12, 28, 16, 3)),
        (1482940980000.9, "UTC", utc(2016, 12, 28, 16, 3)),
        ("1482940980000", PRAGUE, utc(2016, 12, 28, 16, 3)),
        (0, "UTC", utc(1970, 1, 1)),
        (-1000, "UTC", utc(1969, 12, 31, 23, 59, 59)),
        (datetime(2026, 1, 31, 12), PRAGUE, utc(2026, 1, 31, 11)),
        (
            datetime(2026, 1, 31, 12, tzinfo=timezone(timedelta(hours=5))),
            "UTC",
            utc(2026, 1, 31, 7),
        ),
        (date(2026, 1, 31), "UTC", utc(2026, 1, 31)),
    ],
)
def test_to_datetime_reads_dates_text_and_unix_milliseconds(
    value: object, tz: str, expected: datetime
) -> None:
    result = to_datetime(value, tz)
    assert result == expected
    assert result is not None and result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "hello", "2026-13-01", "31.01.2026", True, False, [], {}, float("nan")],
)
def test_to_datetime_is_none_for_non_dates(value: object) -> None:
    assert to_datetime(value) is None


def test_to_datetime_out_of_range_milliseconds_is_none() -> None:
    assert to_datetime(10**20) is None


# -- comparisons -----------------------------------------------------------------------------


def test_compare_dates_orders_instants_across_forms() -> None:
    assert compare_dates("2026-01-31", "2026-02-01") == -1
    assert compare_dates("2026-01-31T01:00:00+01:00", "2026-01-31T00:00:00Z") == 0
    assert compare_dates(1482940980000, "2016-12-28T16:02:59Z") == 1


def test_compare_dates_reads_naive_text_in_the_zone() -> None:
    assert compare_dates("2026-01-31 00:30", "2026-01-31T00:00:00Z", PRAGUE) == -1
    assert compare_dates("2026-01-31 00:30", "2026-01-31T00:00:00Z", "UTC") == 1


def test_compare_dates_is_none_when_either_is_not_a_date() -> None:
    assert compare_dates("nope", "2026-01-31") is None
    assert compare_dates("2026-01-31", None) is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("09:30", "10:00", -1),
        ("10:00", "10:00:00", 0),
        ("23:59:59", "23:59:58", 1),
        ("2:30 PM", "14:30", 0),
        ("12:00 am", "00:00", 0),
        ("12:15 p.m.", "12:00", 1),
        ("9:05", "09:05", 0),
    ],
)
def test_compare_times_reads_clock_text(a: str, b: str, expected: int) -> None:
    assert compare_times(a, b) == expected


def test_compare_times_takes_a_dates_time_in_the_zone() -> None:
    # 08:30Z is 09:30 in Prague in winter.
    assert compare_times("2026-01-31T08:30:00Z", "09:30", PRAGUE) == 0
    assert compare_times("2026-01-31T08:30:00Z", "09:30", "UTC") == -1
    assert compare_times(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), "23:00") == 0


@pytest.mark.parametrize("bad", ["25:00", "10:60", "13:00 PM", "noon", None])
def test_compare_times_is_none_for_non_times(bad: object) -> None:
    assert compare_times(bad, "10:00") is None


# -- time zones ------------------------------------------------------------------------------


def test_zone_names_are_case_insensitive_like_moment_timezone() -> None:
    assert get_zone("europe/prague").key == PRAGUE


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "Europe", "../etc/passwd", "/etc/passwd"])
def test_unknown_zones_raise(bad: str) -> None:
    with pytest.raises(ExpressionError, match="time zone"):
        get_zone(bad)


# -- formatting ----------------------------------------------------------------------------

MOMENT = utc(2026, 1, 4, 15, 7, 9, 45_678)  # a Sunday


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("YYYY YY Y", "2026 26 2026"),
        ("Q Qo", "1 1st"),
        ("M Mo MM MMM MMMM", "1 1st 01 Jan January"),
        ("D Do DD DDD DDDo DDDD", "4 4th 04 4 4th 004"),
        ("d do dd ddd dddd", "0 0th Su Sun Sunday"),
        ("e E", "0 7"),
        # Sunday Jan 4 starts locale week 2 but is still in ISO week 1 (Mon-Sun).
        ("w wo ww W Wo WW", "2 2nd 02 1 1st 01"),
        ("gggg GGGG gg GG", "2026 2026 26 26"),
        ("H HH h hh k kk", "15 15 3 03 15 15"),
        ("m mm s ss", "7 07 9 09"),
        ("S SS SSS SSSS", "0 04 045 0456"),
        ("a A", "pm PM"),
        ("X x", "1767539229 1767539229045"),
        ("Z ZZ", "+00:00 +0000"),
        ("YYYY-MM-DDTHH:mm:ss", "2026-01-04T15:07:09"),
        ("[Today is] dddd", "Today is Sunday"),
        ("[YYYY] YYYY [[x]]", "YYYY 2026 [x]"),
        (r"\Y\Y YYYY", "YY 2026"),
        ("DD/MM/YYYY, HH:mm!", "04/01/2026, 15:07!"),
    ],
)
def test_format_tokens(fmt: str, expected: str) -> None:
    assert format_date(MOMENT, fmt, "UTC") == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals(day: int, expected: str) -> None:
    assert ordinal(day) == expected


@pytest.mark.parametrize("day", [1, 2, 3, 11, 22])
def test_do_token_writes_english_ordinals(day: int) -> None:
    assert format_date(utc(2026, 1, day), "Do", "UTC") == ordinal(day)


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(0, "12:00 AM 12 am 24"), (1, "01:00 AM 1 am 1"), (11, "11:00 AM 11 am 11"),
     (12, "12:00 PM 12 pm 12"), (13, "01:00 PM 1 pm 13"), (23, "11:00 PM 11 pm 23")],
)  # fmt: skip
def test_twelve_hour_clock_edges(hour: int, expected: str) -> None:
    assert format_date(utc(2026, 1, 1, hour), "hh:mm A h a k", "UTC") == expected


def test_offsets_and_abbreviations_follow_the_zone_and_dst() -> None:
    winter, summer = utc(2026, 1, 15, 12), utc(2026, 7, 15, 12)
    assert format_date(winter, "HH:mm Z ZZ z", PRAGUE) == "13:00 +01:00 +0100 CET"
    assert format_date(summer, "HH:mm Z ZZ z", PRAGUE) == "14:00 +02:00 +0200 CEST"
    assert format_date(winter, "HH:mm Z", "America/New_York") == "07:00 -05:00"
    assert format_date(winter, "Z", "Asia/Kolkata") == "+05:30"


def test_x_tokens_do_not_depend_on_the_zone() -> None:
    assert format_date(MOMENT, "X", PRAGUE) == format_date(MOMENT, "X", "UTC") == "1767539229"


def test_empty_format_is_moments_default_iso_format() -> None:
    assert format_date(MOMENT, "", "UTC") == "2026-01-04T15:07:09Z"
    assert format_date(MOMENT, "", PRAGUE) == "2026-01-04T16:07:09+01:00"


def test_leap_day_and_day_of_year() -> None:
    assert format_date(utc(2024, 2, 29), "DDD dddd", "UTC") == "60 Thursday"
    assert format_date(utc(2024, 12, 31), "DDDD", "UTC") == "366"


def test_tokenizer_keeps_unknown_letters_literal() -> None:
    assert tokenize("YYYY-T[at]q") == [
        ("YYYY", False),
        ("-", True),
        ("T", True),
        ("at", True),
        ("q", True),
    ]


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2026-01-31", "YYYY-MM-DD", utc(2026, 1, 31)),
        ("31/01/2026 14:05", "DD/MM/YYYY HH:mm", utc(2026, 1, 31, 14, 5)),
        ("31.1.26", "D.M.YY", utc(2026, 1, 31)),
        ("31.1.69", "D.M.YY", utc(1969, 1, 31)),
        ("31.1.26", "D.M.YYYY", utc(2026, 1, 31)),
        ("20260131", "YYYYMMDD", utc(2026, 1, 31)),
        ("Saturday, January 31st 2026", "dddd, MMMM Do YYYY", utc(2026, 1, 31)),
        ("sat 31 JAN 2026", "ddd D MMM YYYY", utc(2026, 1, 31)),
        ("2016-12-28 4:03 PM", "YYYY-MM-DD h:mm A", utc(2016, 12, 28, 16, 3)),
        ("12:30 am", "hh:mm a", utc(2026, 5, 6, 0, 30)),
        ("12:30 pm", "hh:mm a", utc(2026, 5, 6, 12, 30)),
        ("24:00", "kk:mm", utc(2026, 5, 6, 0, 0)),
        ("2026-01-31 24:00", "YYYY-MM-DD HH:mm", utc(2026, 2, 1)),
        ("2026-01-31 10:00:05.123", "YYYY-MM-DD HH:mm:ss.SSS", utc(2026, 1, 31, 10, 0, 5, 123_000)),
        ("1482940980", "X", utc(2016, 12, 28, 16, 3)),
        ("1482940980.5", "X", utc(2016, 12, 28, 16, 3, 0, 500_000)),
        ("1482940980123", "x", utc(2016, 12, 28, 16, 3, 0, 123_000)),
        ("2026-01-31 10:00 +02:00", "YYYY-MM-DD HH:mm Z", utc(2026, 1, 31, 8)),
        ("2026-01-31 10:00 -0530", "YYYY-MM-DD HH:mm ZZ", utc(2026, 1, 31, 15, 30)),
        ("2026-01-31T10:00:00Z", "YYYY-MM-DDTHH:mm:ssZ", utc(2026, 1, 31, 10)),
        ("on 2026-01-31", "[on] YYYY-MM-DD", utc(2026, 1, 31)),
        ("2026 032", "YYYY DDDD", utc(2026, 2, 1)),
        ("2026-W05-3", "GGGG-[W]WW-E", utc(2026, 1, 28)),
        ("2026 Q3", "YYYY [Q]Q", utc(2026, 7, 1)),
        ("2024-02-29", "YYYY-MM-DD", utc(2024, 2, 29)),
    ],
)
def test_parse_with_format(text: str, fmt: str, expected: datetime) -> None:
    assert parse(text, fmt) == expected


def test_parse_fills_missing_leading_parts_from_now_like_moment() -> None:
    assert parse("14:30", "HH:mm") == utc(2026, 5, 6, 14, 30)
    assert parse("15", "DD") == utc(2026, 5, 15)
    assert parse("03", "MM") == utc(2026, 3, 1)
    assert parse("2030", "YYYY") == utc(2030, 1, 1)
    assert parse("Monday", "dddd") == utc(2026, 5, 4)  # Monday of the current (Sun-Sat) week


def test_parse_is_forgiving_like_moments_non_strict_mode() -> None:
    # Separators need not match and trailing text is ignored, as in moment's default mode.
    assert parse("2026/01/31", "YYYY-MM-DD") == utc(2026, 1, 31)
    assert parse("31.01.2026 and more", "DD.MM.YYYY") == utc(2026, 1, 31)


def test_parse_in_a_zone_and_an_explicit_offset_wins() -> None:
    assert parse("31/01/2026 14:05", "DD/MM/YYYY HH:mm", PRAGUE) == utc(2026, 1, 31, 13, 5)
    assert parse("01/07/2026 14:05", "DD/MM/YYYY HH:mm", PRAGUE) == utc(2026, 7, 1, 12, 5)
    assert parse("2026-01-31 10:00 +00:00", "YYYY-MM-DD HH:mm Z", PRAGUE) == utc(2026, 1, 31, 10)
    assert parse("1482940980", "X", PRAGUE) == utc(2016, 12, 28, 16, 3)


def test_parse_skipped_local_time_moves_forward_by_the_gap() -> None:
    # Prague skips 02:00-03:00 on 2026-03-29; 02:30 becomes 03:30 CEST (01:30Z), as
    # moment-timezone does by default.
    assert parse("2026-03-29 02:30", "YYYY-MM-DD HH:mm", PRAGUE) == utc(2026, 3, 29, 1, 30)
    assert parse("2026-03-29 03:30", "YYYY-MM-DD HH:mm", PRAGUE) == utc(2026, 3, 29, 1, 30)


def test_parse_repeated_local_time_takes_the_first_occurrence() -> None:
    # 02:30 happens twice on 2026-10-25 in Prague: first at +02:00 (00:30Z), then at +01:00.
    assert parse("2026-10-25 02:30", "YYYY-MM-DD HH:mm", PRAGUE) == utc(2026, 10, 25, 0, 30)


def test_parse_without_format_reads_iso_8601() -> None:
    assert parse("2026-01-31T10:00:00+01:00", "") == utc(2026, 1, 31, 9)
    assert parse("2026-01-31", "", PRAGUE) == utc(2026, 1, 30, 23)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("hello", "YYYY-MM-DD"),
        ("", "YYYY-MM-DD"),
        ("2026-13-01", "YYYY-MM-DD"),
        ("2026-02-29", "YYYY-MM-DD"),
        ("2026-01-32", "YYYY-MM-DD"),
        ("2026-01-31 25:00", "YYYY-MM-DD HH:mm"),
        ("2026-01-31 24:30", "YYYY-MM-DD HH:mm"),
        ("2026-01-31 10:60", "YYYY-MM-DD HH:mm"),
        ("Friday 2026-01-31", "dddd YYYY-MM-DD"),
        ("2026 367", "YYYY DDDD"),
        ("2026-W54-1", "GGGG-[W]WW-E"),
        ("0000-01-01", "YYYY-MM-DD"),
        ("not a date", ""),
    ],
)
def test_parse_rejects_invalid_dates(text: str, fmt: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text, fmt)


def test_format_and_parse_round_trip() -> None:
    fmt = "dddd, MMMM Do YYYY, h:mm:ss.SSS A ZZ"
    text = format_date(MOMENT, fmt, PRAGUE)
    assert text == "Sunday, January 4th 2026, 4:07:09.045 PM +0100"
    assert parse(text, fmt) == MOMENT.replace(microsecond=45_000)
