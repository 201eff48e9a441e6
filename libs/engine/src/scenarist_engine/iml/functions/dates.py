"""IML date and time functions: formatDate, parseDate, add*, set*.

Calendar arithmetic (days, months, years and every set*) happens on the wall clock of the
scenario's time zone, as moment-timezone does: addDays across a DST change keeps 12:00 at
12:00 even though 23 or 25 hours pass. addSeconds/addMinutes/addHours add exact elapsed
time. A wall time that a DST change skips moves forward by the gap; a repeated one keeps the
occurrence the input was in (the first one for times that were not repeated).

An empty argument (null or "") gives null, as a mapped empty field does in Make; any other
value that is not a date is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.datetime_parsing import name_index
from scenarist_engine.iml.datetime_tokens import (
    MONTHS,
    MONTHS_SHORT,
    WEEKDAYS,
    WEEKDAYS_MIN,
    WEEKDAYS_SHORT,
    days_in_month,
    is_leap_year,
    js_weekday,
    resolve_wall_time,
)
from scenarist_engine.iml.datetimes import format_date, get_zone, parse_date, to_datetime
from scenarist_engine.iml.functions.registry import iml_function
from scenarist_engine.iml.values import to_number, to_number_or_none, to_text

WallChange = Callable[[datetime], datetime]


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _date_arg(ctx: EvalContext, value: Any, function: str) -> datetime:
    result = to_datetime(value, ctx.timezone)
    if result is None:
        raise ExpressionError(f"{function}(): {to_text(value)!r} is not a valid date")
    return result


def _zone_name(ctx: EvalContext, value: Any) -> str:
    return ctx.timezone if _is_empty(value) else to_text(value)


def _integer(value: Any, function: str) -> int:
    """JavaScript's ToIntegerOrInfinity, as Date's setters apply it: truncate toward zero."""
    number = to_number(value, what=f"{function}() argument")
    if math.isnan(number) or math.isinf(number):
        raise ExpressionError(f"{function}(): {to_text(value)!r} is not a finite number")
    return int(number)


def _abs_round(number: float) -> int:
    """moment's absRound: whole days/months added round half away from zero."""
    rounded = math.floor(abs(number) + 0.5)
    return -rounded if number < 0 else rounded


def _on_wall_clock(ctx: EvalContext, instant: datetime, change: WallChange) -> datetime:
    """Apply `change` to the local time in the scenario's zone and map it back to UTC."""
    zone = get_zone(ctx.timezone)
    local = instant.astimezone(zone)
    try:
        moved = change(local.replace(tzinfo=None))
    except (OverflowError, ValueError) as exc:
        raise ExpressionError(f"date arithmetic on {instant.isoformat()} is out of range") from exc
    return resolve_wall_time(moved, zone, local.fold)


def _shift_months(value: datetime, months: int) -> datetime:
    """Move by whole months, clamping the day to the target month's end (Jan 31 -> Feb 28)."""
    year, month0 = divmod(value.year * 12 + value.month - 1 + months, 12)
    return value.replace(
        year=year, month=month0 + 1, day=min(value.day, days_in_month(year, month0 + 1))
    )


# -- formatDate / parseDate --------------------------------------------------------------


@iml_function(
    "formatDate",
    min_args=2,
    max_args=3,
    signature="formatDate(date; format; [timezone])",
    category="date",
)
def format_date_fn(ctx: EvalContext, value: Any, fmt: Any, zone: Any = None) -> str | None:
    """Writes a date as text using moment.js format tokens, in a time zone."""
    if _is_empty(value):
        return None
    instant = _date_arg(ctx, value, "formatDate")
    return format_date(instant, to_text(fmt), _zone_name(ctx, zone))


@iml_function(
    "parseDate",
    min_args=1,
    max_args=3,
    signature="parseDate(text; format; [timezone])",
    category="date",
)
def parse_date_fn(ctx: EvalContext, text: Any, fmt: Any = None, zone: Any = None) -> Any:
    """Reads text as a date using moment.js format tokens, in a time zone."""
    if _is_empty(text):
        return None
    if isinstance(text, datetime):
        return _date_arg(ctx, text, "parseDate")
    return parse_date(to_text(text), to_text(fmt), _zone_name(ctx, zone), now=ctx.now)


# -- add* ------------------------------------------------------------------------------------


def _register_elapsed(name: str, unit: timedelta) -> None:
    def add(ctx: EvalContext, value: Any, amount: Any) -> datetime | None:
        if _is_empty(value):
            return None
        instant = _date_arg(ctx, value, name)
        number = to_number(amount, what=f"{name}() argument")
        # moment adds whole milliseconds to the instant; DST does not matter here.
        millis = number * (unit / timedelta(milliseconds=1))
        try:
            return instant + timedelta(milliseconds=int(millis))
        except (OverflowError, ValueError) as exc:
            raise ExpressionError(f"{name}(): result is out of range") from exc

    add.__doc__ = f"Adds {unit.total_seconds():g}-second units of elapsed time to a date."
    iml_function(name, min_args=2, max_args=2, signature=f"{name}(date; number)", category="date")(
        add
    )


def _register_calendar(name: str, shift: Callable[[datetime, float], datetime], doc: str) -> None:
    def add(ctx: EvalContext, value: Any, amount: Any) -> datetime | None:
        if _is_empty(value):
            return None
        instant = _date_arg(ctx, value, name)
        number = to_number(amount, what=f"{name}() argument")
        if math.isnan(number) or math.isinf(number):
            raise ExpressionError(f"{name}(): {to_text(amount)!r} is not a finite number")
        return _on_wall_clock(ctx, instant, lambda local: shift(local, number))

    add.__doc__ = doc
    iml_function(name, min_args=2, max_args=2, signature=f"{name}(date; number)", category="date")(
        add
    )


_register_elapsed("addSeconds", timedelta(seconds=1))
_register_elapsed("addMinutes", timedelta(minutes=1))
_register_elapsed("addHours", timedelta(hours=1))
_register_calendar(
    "addDays",
    lambda local, n: local + timedelta(days=_abs_round(n)),
    "Adds days to a date, keeping the wall-clock time in the scenario's time zone.",
)
_register_calendar(
    "addMonths",
    lambda local, n: _shift_months(local, _abs_round(n)),
    "Adds months to a date; the day is clamped to the month's end (Jan 31 + 1 = Feb 28/29).",
)
_register_calendar(
    "addYears",
    lambda local, n: _shift_months(local, _abs_round(n * 12)),
    "Adds years to a date; 29 February becomes 28 February in a common year.",
)


# -- set* ------------------------------------------------------------------------------------


def _setter(ctx: EvalContext, value: Any, change: WallChange, function: str) -> datetime | None:
    if _is_empty(value):
        return None
    return _on_wall_clock(ctx, _date_arg(ctx, value, function), change)


_CLOCK_UNITS: dict[str, Callable[[datetime], datetime]] = {
    "second": lambda local: local.replace(second=0),
    "minute": lambda local: local.replace(minute=0),
    "hour": lambda local: local.replace(hour=0),
}


def _register_clock_setter(name: str, unit: str) -> None:
    def set_unit(ctx: EvalContext, value: Any, amount: Any) -> datetime | None:
        number = _integer(amount, name)
        step = timedelta(**{f"{unit}s": 1})

        # Date's setHours(25) style overflow: zero the unit, then add the value.
        def change(local: datetime) -> datetime:
            return _CLOCK_UNITS[unit](local) + number * step

        return _setter(ctx, value, change, name)

    set_unit.__doc__ = f"Sets the {unit} of a date; values out of range roll over."
    iml_function(name, min_args=2, max_args=2, signature=f"{name}(date; number)", category="date")(
        set_unit
    )


_register_clock_setter("setSecond", "second")
_register_clock_setter("setMinute", "minute")
_register_clock_setter("setHour", "hour")


@iml_function("setDate", min_args=2, max_args=2, signature="setDate(date; number)", category="date")
def set_date(ctx: EvalContext, value: Any, day: Any) -> datetime | None:
    """Sets the day of the month (1-31); values out of range roll into other months."""
    number = _integer(day, "setDate")
    return _setter(
        ctx, value, lambda local: local.replace(day=1) + timedelta(days=number - 1), "setDate"
    )


def _named_or_number(value: Any, names: tuple[tuple[str, ...], ...], function: str) -> int:
    """A 1-based number, or an English name (full or short) mapped to its 1-based number."""
    if isinstance(value, str) and to_number_or_none(value) is None:
        index = name_index(value, *names)
        if index is None:
            raise ExpressionError(f"{function}(): {value!r} is not a valid name")
        return index + 1
    return _integer(value, function)


@iml_function(
    "setDay",
    min_args=2,
    max_args=2,
    signature="setDay(date; number|name)",
    category="date",
)
def set_day(ctx: EvalContext, value: Any, day: Any) -> datetime | None:
    """Sets the day of the week (Sunday = 1 … Saturday = 7, or an English name) in the same week."""
    number = _named_or_number(day, (WEEKDAYS, WEEKDAYS_SHORT, WEEKDAYS_MIN), "setDay")
    # Weeks run Sunday to Saturday; 8 is next week's Sunday, 0 last week's Saturday.
    return _setter(
        ctx, value, lambda local: local + timedelta(days=number - 1 - js_weekday(local)), "setDay"
    )


@iml_function(
    "setMonth",
    min_args=2,
    max_args=2,
    signature="setMonth(date; number|name)",
    category="date",
)
def set_month(ctx: EvalContext, value: Any, month: Any) -> datetime | None:
    """Sets the month (1-12 or an English name); the day is clamped to the month's end."""
    number = _named_or_number(month, (MONTHS, MONTHS_SHORT), "setMonth")
    return _setter(ctx, value, lambda local: _shift_months(local, number - local.month), "setMonth")


@iml_function("setYear", min_args=2, max_args=2, signature="setYear(date; number)", category="date")
def set_year(ctx: EvalContext, value: Any, year: Any) -> datetime | None:
    """Sets the year; 29 February becomes 28 February in a common year."""
    number = _integer(year, "setYear")

    def change(local: datetime) -> datetime:
        day = 28 if local.month == 2 and local.day == 29 and not is_leap_year(number) else local.day
        return local.replace(year=number, day=day)

    return _setter(ctx, value, change, "setYear")
