"""moment.js format tokens: splitting a format, English names, week numbering, formatting.

Make formats dates with moment.js, so the token set, the token-splitting regex and the output
of every token follow moment's English locale (weeks start on Sunday; ISO weeks on Monday).
Parsing lives in datetime_parsing.py and shares the tokenizer and tables here, as does
the one rule for turning a local wall time into an instant.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from scenarist_engine.errors import ExpressionError

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS_SHORT = tuple(name[:3] for name in MONTHS)
# moment numbers weekdays from Sunday = 0; every table here follows it.
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WEEKDAYS_SHORT = tuple(name[:3] for name in WEEKDAYS)
WEEKDAYS_MIN = tuple(name[:2] for name in WEEKDAYS)

# (dow, doy) as moment's locale week settings: ISO weeks start on Monday and week 1 holds
# Jan 4; the English locale starts weeks on Sunday and week 1 holds Jan 1.
ISO_WEEK = (1, 4)
LOCALE_WEEK = (0, 6)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# moment's own splitting regex (minus eras and locale shortcuts such as LT): a bracketed
# run, an optionally backslash-escaped token, or any single character taken literally.
_TOKEN_RE = re.compile(
    r"(\[[^\[]*\])|(\\)?("
    r"Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[ow]?|W[oW]?|Qo?|"
    r"YYYYYY|YYYYY|YYYY|YY|Y|gggg|gg|GGGG|GG|e|E|a|A|hh?|HH?|kk?|mm?|ss?|S{1,9}|x|X|zz?|ZZ?|.)",
    re.DOTALL,
)


def tokenize(fmt: str) -> list[tuple[str, bool]]:
    """Split a format into (text, is_literal) pieces; tokens keep their letters."""
    pieces: list[tuple[str, bool]] = []
    for match in _TOKEN_RE.finditer(fmt):
        bracketed, escaped, token = match.groups()
        if bracketed is not None:
            pieces.append((bracketed[1:-1], True))
        elif escaped is not None or token not in FORMATTERS:
            pieces.append((token, True))
        else:
            pieces.append((token, False))
    return pieces


def ordinal(number: int) -> str:
    """English ordinal as moment writes it: 1st 2nd 3rd 4th 11th 12th 13th 21st 22nd."""
    if (number % 100) // 10 == 1:
        return f"{number}th"
    return f"{number}" + {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def zero_fill(number: int, width: int, force_sign: bool = False) -> str:
    """moment's zeroFill: pad the magnitude, keep a minus, optionally force a plus."""
    sign = "-" if number < 0 else ("+" if force_sign else "")
    return sign + str(abs(number)).zfill(width)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def js_weekday(day: date) -> int:
    """Day of the week with Sunday = 0, as JavaScript's getDay()."""
    return day.isoweekday() % 7


def week_one_start(year: int, week: tuple[int, int]) -> date:
    """First day of week 1 of a week-numbering year (moment's firstWeekOffset)."""
    dow, doy = week
    anchor = date(year, 1, 7 + dow - doy)
    return anchor - timedelta(days=(js_weekday(anchor) - dow) % 7)


def weeks_in_year(year: int, week: tuple[int, int]) -> int:
    return (week_one_start(year + 1, week) - week_one_start(year, week)).days // 7


def week_of_year(day: date, week: tuple[int, int]) -> tuple[int, int]:
    """(week number, week-numbering year) of a day."""
    year = day.year
    if day < week_one_start(year, week):
        year -= 1
    elif day >= week_one_start(year + 1, week):
        year += 1
    return (day - week_one_start(year, week)).days // 7 + 1, year


def date_from_week(year: int, number: int, weekday: int, week: tuple[int, int]) -> date:
    """The day of `week` number `number` of `year`; weekday counts from Sunday = 0."""
    dow = week[0]
    offset = 7 * (number - 1) + (7 + weekday - dow) % 7
    return week_one_start(year, week) + timedelta(days=offset)


def resolve_wall_time(naive: datetime, zone: ZoneInfo, fold: int = 0) -> datetime:
    """The UTC instant of a local wall time in `zone`.

    A skipped time (spring gap) moves forward by the gap; a repeated time takes the
    occurrence given by `fold` (0 = first), falling back to fold=0 when the time isn't
    repeated at all, so a kept fold can never move a gap time backwards.
    """
    try:
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if fold and instant.astimezone(zone).replace(tzinfo=None) != naive:
            instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ExpressionError(f"date {naive.isoformat()} is out of range") from exc
    return instant


def _offset(value: datetime, separator: str) -> str:
    delta = value.utcoffset() or timedelta(0)
    minutes = round(delta.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{separator}{rest:02d}"


def _fraction(value: datetime, digits: int) -> str:
    # moment keeps milliseconds only; we have microseconds, so the extra digits are real.
    return (f"{value.microsecond:06d}" + "000")[:digits]


def _year_token(value: datetime) -> str:
    return zero_fill(value.year, 4) if value.year <= 9999 else f"+{value.year}"


def _hour12(value: datetime) -> int:
    return value.hour % 12 or 12


def _unix_seconds(value: datetime) -> int:
    return (value - EPOCH) // timedelta(seconds=1)


def _unix_millis(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def _iso_week(value: datetime) -> tuple[int, int]:
    return week_of_year(value.date(), ISO_WEEK)


def _locale_week(value: datetime) -> tuple[int, int]:
    return week_of_year(value.date(), LOCALE_WEEK)


def _day_of_year(value: datetime) -> int:
    return value.timetuple().tm_yday


def _quarter(value: datetime) -> int:
    return (value.month - 1) // 3 + 1


Formatter = Callable[[datetime], str]

# Every token formats a datetime that is already in the target time zone.
FORMATTERS: dict[str, Formatter] = {
    "M": lambda v: str(v.month),
    "Mo": lambda v: ordinal(v.month),
    "MM": lambda v: f"{v.month:02d}",
    "MMM": lambda v: MONTHS_SHORT[v.month - 1],
    "MMMM": lambda v: MONTHS[v.month - 1],
    "Q": lambda v: str(_quarter(v)),
    "Qo": lambda v: ordinal(_quarter(v)),
    "D": lambda v: str(v.day),
    "Do": lambda v: ordinal(v.day),
    "DD": lambda v: f"{v.day:02d}",
    "DDD": lambda v: str(_day_of_year(v)),
    "DDDo": lambda v: ordinal(_day_of_year(v)),
    "DDDD": lambda v: f"{_day_of_year(v):03d}",
    "d": lambda v: str(js_weekday(v)),
    "do": lambda v: ordinal(js_weekday(v)),
    "dd": lambda v: WEEKDAYS_MIN[js_weekday(v)],
    "ddd": lambda v: WEEKDAYS_SHORT[js_weekday(v)],
    "dddd": lambda v: WEEKDAYS[js_weekday(v)],
    "e": lambda v: str(js_weekday(v)),
    "E": lambda v: str(v.isoweekday()),
    "w": lambda v: str(_locale_week(v)[0]),
    "wo": lambda v: ordinal(_locale_week(v)[0]),
    "ww": lambda v: f"{_locale_week(v)[0]:02d}",
    "W": lambda v: str(_iso_week(v)[0]),
    "Wo": lambda v: ordinal(_iso_week(v)[0]),
    "WW": lambda v: f"{_iso_week(v)[0]:02d}",
    "gg": lambda v: f"{_locale_week(v)[1] % 100:02d}",
    "gggg": lambda v: zero_fill(_locale_week(v)[1], 4),
    "GG": lambda v: f"{_iso_week(v)[1] % 100:02d}",
    "GGGG": lambda v: zero_fill(_iso_week(v)[1], 4),
    "YYYYYY": lambda v: zero_fill(v.year, 6, force_sign=True),
    "YYYYY": lambda v: zero_fill(v.year, 5),
    "YYYY": lambda v: zero_fill(v.year, 4),
    "YY": lambda v: f"{v.year % 100:02d}",
    "Y": _year_token,
    "H": lambda v: str(v.hour),
    "HH": lambda v: f"{v.hour:02d}",
    "h": lambda v: str(_hour12(v)),
    "hh": lambda v: f"{_hour12(v):02d}",
    "k": lambda v: str(v.hour or 24),
    "kk": lambda v: f"{v.hour or 24:02d}",
    "m": lambda v: str(v.minute),
    "mm": lambda v: f"{v.minute:02d}",
    "s": lambda v: str(v.second),
    "ss": lambda v: f"{v.second:02d}",
    "a": lambda v: "pm" if v.hour >= 12 else "am",
    "A": lambda v: "PM" if v.hour >= 12 else "AM",
    "X": lambda v: str(_unix_seconds(v)),
    "x": lambda v: str(_unix_millis(v)),
    "Z": lambda v: _offset(v, ":"),
    "ZZ": lambda v: _offset(v, ""),
    "z": lambda v: v.tzname() or "",
    "zz": lambda v: v.tzname() or "",
}
FORMATTERS.update({"S" * n: partial(_fraction, digits=n) for n in range(1, 10)})


def render(local: datetime, fmt: str) -> str:
    """Format an aware datetime (already in the wanted zone) with moment tokens."""
    return "".join(text if literal else FORMATTERS[text](local) for text, literal in tokenize(fmt))
