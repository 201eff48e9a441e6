"""Dates in IML: reading values as dates, time zones, comparisons, formatting and parsing.

Make computes dates with moment.js and moment-timezone. We follow them where it shows:
numbers are Unix milliseconds (JavaScript's Date), text without an offset is local time in
the scenario's zone, and a local time that a DST change skips or repeats is resolved the way
moment-timezone does by default: a skipped time moves forward by the gap, a repeated one
takes its first occurrence. Python's zoneinfo does exactly that for fold=0, so fold=0 is the
rule everywhere except when we keep the fold of a time we already had.

Every date this module returns is an aware datetime in UTC.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.datetime_parsing import parse_with_format
from scenarist_engine.iml.datetime_tokens import EPOCH, render, resolve_wall_time

__all__ = [
    "compare_dates",
    "compare_times",
    "format_date",
    "from_unix_millis",
    "get_zone",
    "parse_date",
    "resolve_wall_time",
    "to_datetime",
]

_NUMERIC_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TIME_OF_DAY_RE = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([ap])?\.?(?:m\.?)?", re.IGNORECASE
)
# moment's default formats when formatDate gets an empty format.
_DEFAULT_FORMAT = "YYYY-MM-DDTHH:mm:ssZ"
_DEFAULT_FORMAT_UTC = "YYYY-MM-DDTHH:mm:ss[Z]"


# -- time zones ---------------------------------------------------------------------------


def get_zone(name: str) -> ZoneInfo:
    """The IANA zone called `name` (case-insensitive, as moment-timezone), else an error."""
    key = name.strip()
    zone = _load_zone(key) if key else None
    if zone is None and key:
        canonical = _zone_names_by_lower().get(key.lower())
        zone = _load_zone(canonical) if canonical else None
    if zone is None:
        raise ExpressionError(f"unknown time zone {name!r}")
    return zone


def _load_zone(key: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # Not found, a path-like key that zoneinfo refuses, or a directory such as "Europe".
        return None


@lru_cache(maxsize=1)
def _zone_names_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


# -- reading values as dates -----------------------------------------------------------------


def from_unix_millis(millis: float) -> datetime | None:
    """JavaScript's new Date(ms): fractional milliseconds are truncated."""
    try:
        return EPOCH + timedelta(milliseconds=int(millis))
    except (OverflowError, ValueError):
        return None


def to_datetime(value: Any, tz: str = "UTC") -> datetime | None:
    """An aware UTC datetime from a date, ISO 8601 / RFC 2822 text or Unix milliseconds.

    Naive datetimes and text without an offset are wall time in `tz`; a date alone is its
    midnight there. Numbers and numeric text are Unix milliseconds, as JavaScript's Date
    reads them, so "1735689600000" is a date but so is "2026" (2 seconds after the epoch).
    Anything else, booleans included, is not a date: None.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return resolve_wall_time(value, get_zone(tz))
        return value.astimezone(UTC)
    if isinstance(value, date):
        return resolve_wall_time(datetime(value.year, value.month, value.day), get_zone(tz))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        return _from_text(value.strip(), tz)
    return None


def _from_number(value: float) -> datetime | None:
    if not math.isfinite(value):
        return None
    return from_unix_millis(value)


def _from_text(text: str, tz: str) -> datetime | None:
    if not text:
        return None
    if _NUMERIC_RE.fullmatch(text):
        return _from_number(float(text))
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc2822(text)
    if parsed is None:
        return None
    return to_datetime(parsed, tz)


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_rfc2822(text: str) -> datetime | None:
    # JavaScript's Date also reads e-mail style dates ("Tue, 01 Dec 2026 10:00:00 GMT").
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


# -- comparisons (filters' date: and time: operators) --------------------------------------


def _sign(difference: float) -> int:
    return (difference > 0) - (difference < 0)


def compare_dates(a: Any, b: Any, tz: str = "UTC") -> int | None:
    """-1, 0 or 1 as date `a` is before, equal to or after `b`; None if either isn't a date."""
    left, right = to_datetime(a, tz), to_datetime(b, tz)
    if left is None or right is None:
        return None
    return _sign((left - right).total_seconds())


def compare_times(a: Any, b: Any, tz: str = "UTC") -> int | None:
    """Compare times of day: "HH:mm", "HH:mm:ss" (optionally AM/PM) or a date's time in `tz`."""
    left, right = time_of_day(a, tz), time_of_day(b, tz)
    if left is None or right is None:
        return None
    return _sign(left - right)


def time_of_day(value: Any, tz: str = "UTC") -> int | None:
    """Microseconds since local midnight, or None if the value holds no time of day."""
    if isinstance(value, str):
        match = _TIME_OF_DAY_RE.fullmatch(value.strip())
        if match is not None:
            return _clock_micros(match)
    instant = to_datetime(value, tz)
    if instant is None:
        return None
    local = instant.astimezone(get_zone(tz))
    return ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond


def _clock_micros(match: re.Match[str]) -> int | None:
    hour, minute = int(match[1]), int(match[2])
    second = int(match[3] or 0)
    micros = int((match[4] or "").ljust(6, "0"))
    if match[5] is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match[5].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros


# -- formatting and parsing ------------------------------------------------------------------


def format_date(value: datetime, fmt: str, tz: str) -> str:
    """`value` written with moment.js tokens in zone `tz`; an empty format gives ISO 8601."""
    local = value.astimezone(get_zone(tz)) if value.tzinfo else value.replace(tzinfo=get_zone(tz))
    if not fmt:
        offset = local.utcoffset()
        fmt = _DEFAULT_FORMAT_UTC if offset is not None and not offset else _DEFAULT_FORMAT
    try:
        return render(local, fmt)
    except (OverflowError, ValueError) as exc:
        raise ExpressionError(f"cannot format date {value.isoformat()}") from exc


def parse_date(text: str, fmt: str, tz: str, *, now: datetime | None = None) -> datetime:
    """Read `text` with moment.js tokens as wall time in `tz` (an offset in the text wins).

    Without a format the text must be ISO 8601 (or another form to_datetime accepts).
    Missing leading parts (year, month, day) come from `now` in `tz`, the rest default to
    their minimum, as moment does. Unreadable text raises ExpressionError.
    """
    if not fmt:
        parsed = to_datetime(text, tz)
        if parsed is None:
            raise ExpressionError(f"text {text!r} is not a valid date")
        return parsed
    return parse_with_format(text, fmt, get_zone(tz), now or datetime.now(UTC))
