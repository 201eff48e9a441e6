"""Five-field cron expressions (minute hour day-of-month month day-of-week), parsed once.

Written here rather than taken from a package: the grammar is small, and next-due computation
(with time zones and DST) lives in `timing`, which only needs "does this day match" and "which
times of day". Vixie-cron rules: `*`, lists, ranges, steps (`*/15`, `1-30/5`, `5/10`), month and
weekday names, 0 and 7 both Sunday, and when both day fields are restricted a day matching
either one matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MAX_EXPRESSION = 200


class CronError(ValueError):
    """The expression is malformed; the message says where."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_from: int = 0


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, tuple(_MONTHS), 1),
    _Field("day of week", 0, 7, tuple(_DAYS), 0),
)


@dataclass(frozen=True)
class CronExpression:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        in_week = day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def times(self) -> list[tuple[int, int]]:
        return sorted((h, m) for h in self.hours for m in self.minutes)


def _value(text: str, spec: _Field) -> int:
    lowered = text.lower()
    if lowered in spec.names:
        return spec.names.index(lowered) + spec.names_from
    if not text.isdigit():
        raise CronError(f"{spec.name}: {text!r} is not a number")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise CronError(f"{spec.name}: {number} is outside {spec.low}-{spec.high}")
    return number


def _part(part: str, spec: _Field) -> set[int]:
    base, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"{spec.name}: bad step {step_text!r}")
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, spec), _value(last, spec)
        if low > high:
            raise CronError(f"{spec.name}: range {base!r} runs backwards")
    else:
        low = _value(base, spec)
        high = spec.high if step_text else low
    return set(range(low, high + 1, step))


def _field(text: str, spec: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"{spec.name}: empty list item")
        values |= _part(part, spec)
    return frozenset(values)


def parse_cron(expression: str) -> CronExpression:
    text = expression.strip()
    if len(text) > MAX_EXPRESSION:
        raise CronError("expression too long")
    text = MACROS.get(text.lower(), text)
    words = text.split()
    if len(words) != 5:
        raise CronError("expected 5 fields: minute hour day-of-month month day-of-week")
    minutes, hours, days, months, weekdays = (
        _field(word, spec) for word, spec in zip(words, _FIELDS, strict=True)
    )
    return CronExpression(
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=frozenset(d % 7 for d in weekdays),
        days_restricted=not words[2].startswith("*"),
        weekdays_restricted=not words[4].startswith("*"),
    )
