"""Parsing dates with moment.js format tokens, as moment's forgiving (non-strict) mode does.

moment walks the format token by token and *searches* the rest of the text for each
token's pattern, skipping whatever comes before a match; a token or literal that is not found
is passed over. The result is invalid only if no token matched at all or a field overflows
(month 13, 30 February, minute 60, a weekday that contradicts the date). We keep those rules
so that formats written for Make read the same texts here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.datetime_tokens import (
    EPOCH,
    ISO_WEEK,
    LOCALE_WEEK,
    MONTHS,
    MONTHS_SHORT,
    WEEKDAYS,
    WEEKDAYS_MIN,
    WEEKDAYS_SHORT,
    date_from_week,
    is_leap_year,
    js_weekday,
    resolve_wall_time,
    tokenize,
    week_of_year,
    weeks_in_year,
)


@dataclass
class _Parsed:
    """What the tokens found; None/absent means the text did not say."""

    fields: dict[str, int] = field(default_factory=dict)  # year month day hour minute ...
    week: dict[str, int] = field(default_factory=dict)  # W E GG (ISO), w e d gg (locale)
    day_of_year: int | None = None
    pm: bool | None = None
    offset_minutes: int | None = None
    instant: datetime | None = None
    matched: bool = False


def _names_pattern(*tables: tuple[str, ...]) -> re.Pattern[str]:
    # Longest names first so "March" is not read as "Mar" + "ch".
    names = sorted({name for table in tables for name in table}, key=len, reverse=True)
    return re.compile("|".join(re.escape(name) for name in names), re.IGNORECASE)


def name_index(text: str, *tables: tuple[str, ...]) -> int | None:
    """Position of a (case-insensitive) English name in any of the tables, or None."""
    wanted = text.strip().lower()
    for table in tables:
        for index, name in enumerate(table):
            if name.lower() == wanted:
                return index
    return None


def two_digit_year(text: str) -> int:
    """moment's rule: 69-99 are 19xx, 00-68 are 20xx."""
    value = int(text)
    return value + (1900 if value > 68 else 2000)


def _year(text: str) -> int:
    return two_digit_year(text) if len(text) == 2 else int(text)


def _set(key: str, convert: Callable[[str], int] = int) -> Callable[[_Parsed, str], None]:
    def setter(state: _Parsed, text: str) -> None:
        state.fields[key] = convert(text)

    return setter


def _set_week(key: str, convert: Callable[[str], int] = int) -> Callable[[_Parsed, str], None]:
    def setter(state: _Parsed, text: str) -> None:
        state.week[key] = convert(text)

    return setter


def _digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _set_day_of_year(state: _Parsed, text: str) -> None:
    state.day_of_year = _digits(text)


def _set_month_name(state: _Parsed, text: str) -> None:
    state.fields["month"] = (name_index(text, MONTHS, MONTHS_SHORT) or 0) + 1


def _set_weekday_name(state: _Parsed, text: str) -> None:
    state.week["d"] = name_index(text, WEEKDAYS, WEEKDAYS_SHORT, WEEKDAYS_MIN) or 0


def _set_quarter(state: _Parsed, text: str) -> None:
    state.fields["month"] = (int(text) - 1) * 3 + 1


def _set_k_hour(state: _Parsed, text: str) -> None:
    state.fields["hour"] = int(text) % 24


def _set_meridiem(state: _Parsed, text: str) -> None:
    state.pm = text[0].lower() == "p"


def _set_fraction(state: _Parsed, text: str) -> None:
    state.fields["micro"] = int(text[:6].ljust(6, "0"))


def _set_unix_seconds(state: _Parsed, text: str) -> None:
    state.instant = _instant(float(text) * 1000)


def _set_unix_millis(state: _Parsed, text: str) -> None:
    state.instant = _instant(int(text))


def _instant(millis: float) -> datetime:
    try:
        return EPOCH + timedelta(milliseconds=int(millis))
    except (OverflowError, ValueError) as exc:
        raise ExpressionError(f"timestamp {millis} is out of range") from exc


def _set_offset(state: _Parsed, text: str) -> None:
    if text.upper() == "Z":
        state.offset_minutes = 0
        return
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    state.offset_minutes = -minutes if text[0] == "-" else minutes


def _ignore(state: _Parsed, text: str) -> None:
    """Zone abbreviations (CET, EST) are ambiguous; moment does not read them either."""


_D1 = r"\d"
_D1_2 = r"\d\d?"
_D1_3 = r"\d{1,3}"
_D1_4 = r"\d{1,4}"
_D1_6 = r"[+-]?\d{1,6}"
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th)|\d{1,3}"
_MONTH_NAMES = _names_pattern(MONTHS, MONTHS_SHORT)
_WEEKDAY_NAMES = _names_pattern(WEEKDAYS, WEEKDAYS_SHORT, WEEKDAYS_MIN)

Setter = Callable[[_Parsed, str], None]


def _spec(pattern: str | re.Pattern[str], setter: Setter) -> tuple[re.Pattern[str], Setter]:
    return (re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern, setter)


# token -> (what moment's non-strict mode searches for, where the value goes)
PARSERS: dict[str, tuple[re.Pattern[str], Setter]] = {
    "YYYYYY": _spec(_D1_6, _set("year")),
    "YYYYY": _spec(_D1_6, _set("year")),
    "YYYY": _spec(_D1_4, _set("year", _year)),
    "YY": _spec(_D1_2, _set("year", two_digit_year)),
    "Y": _spec(r"[+-]?\d+", _set("year")),
    "Q": _spec(_D1, _set_quarter),
    "Qo": _spec(_ORDINAL, lambda state, text: _set_quarter(state, str(_digits(text)))),
    "M": _spec(_D1_2, _set("month")),
    "MM": _spec(_D1_2, _set("month")),
    "Mo": _spec(_ORDINAL, _set("month", _digits)),
    "MMM": _spec(_MONTH_NAMES, _set_month_name),
    "MMMM": _spec(_MONTH_NAMES, _set_month_name),
    "D": _spec(_D1_2, _set("day")),
    "DD": _spec(_D1_2, _set("day")),
    "Do": _spec(_ORDINAL, _set("day", _digits)),
    "DDD": _spec(_D1_3, _set_day_of_year),
    "DDDD": _spec(_D1_3, _set_day_of_year),
    "DDDo": _spec(_ORDINAL, _set_day_of_year),
    "d": _spec(_D1_2, _set_week("d")),
    "do": _spec(_ORDINAL, _set_week("d", _digits)),
    "dd": _spec(_WEEKDAY_NAMES, _set_weekday_name),
    "ddd": _spec(_WEEKDAY_NAMES, _set_weekday_name),
    "dddd": _spec(_WEEKDAY_NAMES, _set_weekday_name),
    "e": _spec(_D1_2, _set_week("e")),
    "E": _spec(_D1_2, _set_week("E")),
    "w": _spec(_D1_2, _set_week("w")),
    "ww": _spec(_D1_2, _set_week("w")),
    "wo": _spec(_ORDINAL, _set_week("w", _digits)),
    "W": _spec(_D1_2, _set_week("W")),
    "WW": _spec(_D1_2, _set_week("W")),
    "Wo": _spec(_ORDINAL, _set_week("W", _digits)),
    "gg": _spec(_D1_2, _set_week("gg", two_digit_year)),
    "gggg": _spec(_D1_4, _set_week("gg", _year)),
    "GG": _spec(_D1_2, _set_week("GG", two_digit_year)),
    "GGGG": _spec(_D1_4, _set_week("GG", _year)),
    "H": _spec(_D1_2, _set("hour")),
    "HH": _spec(_D1_2, _set("hour")),
    "h": _spec(_D1_2, _set("hour")),
    "hh": _spec(_D1_2, _set("hour")),
    "k": _spec(_D1_2, _set_k_hour),
    "kk": _spec(_D1_2, _set_k_hour),
    "m": _spec(_D1_2, _set("minute")),
    "mm": _spec(_D1_2, _set("minute")),
    "s": _spec(_D1_2, _set("second")),
    "ss": _spec(_D1_2, _set("second")),
    "a": _spec(r"[ap]\.?m?\.?", _set_meridiem),
    "A": _spec(r"[ap]\.?m?\.?", _set_meridiem),
    "X": _spec(r"[+-]?\d+(?:\.\d{1,3})?", _set_unix_seconds),
    "x": _spec(r"[+-]?\d+", _set_unix_millis),
    "Z": _spec(r"Z|[+-]\d\d(?::?\d\d)?", _set_offset),
    "ZZ": _spec(r"Z|[+-]\d\d(?::?\d\d)?", _set_offset),
    "z": _spec(r"[A-Z]{1,6}", _ignore),
    "zz": _spec(r"[A-Z]{1,6}", _ignore),
}
PARSERS.update({"S" * n: _spec(_D1 if n == 1 else rf"\d{{1,{n}}}", _set_fraction) for n in (1, 2)})
PARSERS.update({"S" * n: _spec(r"\d+" if n > 3 else _D1_3, _set_fraction) for n in range(3, 10)})


def scan(text: str, fmt: str) -> _Parsed:
    """Walk the format over the text the way moment's non-strict parser does."""
    state = _Parsed()
    rest = text
    for piece, literal in tokenize(fmt):
        spec = None if literal else PARSERS.get(piece)
        pattern = spec[0] if spec else re.compile(re.escape(piece))
        match = pattern.search(rest)
        if match is None:
            continue
        rest = rest[match.end() :]
        if spec is not None:
            spec[1](state, match.group(0))
            state.matched = True
    return state


def parse_with_format(text: str, fmt: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The UTC instant `text` denotes under moment format `fmt`, read in `zone`."""
    state = scan(text, fmt)
    if not state.matched:
        raise ExpressionError(f"text {text!r} does not match date format {fmt!r}")
    if state.instant is not None:
        return state.instant
    try:
        naive = _assemble(state, now.astimezone(zone).date())
    except (ValueError, OverflowError) as exc:
        raise ExpressionError(f"text {text!r} is not a valid date for format {fmt!r}") from exc
    if state.offset_minutes is not None:
        fixed = timezone(timedelta(minutes=state.offset_minutes))
        return naive.replace(tzinfo=fixed).astimezone(UTC)
    return resolve_wall_time(naive, zone)


def _assemble(state: _Parsed, today: date) -> datetime:
    day = _resolve_date(state, today)
    hour = _resolve_hour(state)
    minute = state.fields.get("minute", 0)
    second = state.fields.get("second", 0)
    micro = state.fields.get("micro", 0)
    next_day = hour == 24 and minute == second == micro == 0
    # time() rejects hour 24, minute 60 ...: moment's overflow checks, as a ValueError.
    clock = time(0 if next_day else hour, minute, second, micro)
    return datetime.combine(day, clock) + timedelta(days=1 if next_day else 0)


def _resolve_hour(state: _Parsed) -> int:
    hour = state.fields.get("hour", 0)
    if state.pm is True and hour < 12:
        return hour + 12
    if state.pm is False and hour == 12:
        return 0
    return hour


def _resolve_date(state: _Parsed, today: date) -> date:
    fields = state.fields
    if state.week and "month" not in fields and "day" not in fields:
        return _date_from_week_fields(state, today)
    if state.day_of_year is not None:
        return _date_from_day_of_year(fields.get("year", today.year), state.day_of_year)
    # moment fills year, month, day from today until the first part the text gave.
    year, month, day = (fields.get(key) for key in ("year", "month", "day"))
    if year is None:
        year = today.year
        if month is None:
            month = today.month
            day = today.day if day is None else day
    result = date(year, month or 1, day or 1)
    weekday = state.week.get("d")
    if weekday is not None and weekday != js_weekday(result):
        raise ValueError("weekday does not match the date")
    return result


def _date_from_day_of_year(year: int, day_of_year: int) -> date:
    if not 1 <= day_of_year <= (366 if is_leap_year(year) else 365):
        raise ValueError("day of year out of range")
    return date(year, 1, 1) + timedelta(days=day_of_year - 1)


def _date_from_week_fields(state: _Parsed, today: date) -> date:
    week = state.week
    iso = any(key in week for key in ("W", "E", "GG"))
    rules = ISO_WEEK if iso else LOCALE_WEEK
    current, current_year = week_of_year(today, rules)
    year = week.get("GG" if iso else "gg", state.fields.get("year", current_year))
    if iso:
        number = week.get("W", 1)
        weekday = week.get("E", 1) % 7
        valid_day = 1 <= week.get("E", 1) <= 7
    else:
        number = week.get("w", current)
        weekday = week.get("d", week.get("e", 0))
        valid_day = 0 <= weekday <= 6
    if not valid_day or not 1 <= number <= weeks_in_year(year, rules):
        raise ValueError("week or weekday out of range")
    return date_from_week(year, number, weekday, rules)
