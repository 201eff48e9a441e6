"""When a schedule comes due: Make's scheduling options and cron, in an IANA time zone.

Every computation is "the first slot strictly after `after`", in UTC instants, so the scheduler
can store one timestamp (the next slot) and ask again after firing it.

Wall-clock kinds (all but INTERVAL) walk local dates and times of day, then turn each local time
into an instant with `fold=0`:

- a local time a spring-forward skips (02:30 on the last Sunday of March in Prague) does not
  exist; `fold=0` reads it with the offset before the change, which is the same instant as
  03:30 local: the run fires once, shifted by the size of the gap;
- a local time a fall-back repeats (02:30 on the last Sunday of October) exists twice; `fold=0`
  is the first, and the walk then moves past 02:30 in local time, so the second is never fired.

A candidate must also be a later instant than `after`, so a shifted time that lands on a real one
(02:00 skipped -> 03:00) fires once. INTERVAL counts elapsed minutes from its start and ignores
DST, as "every 15 minutes" should.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scenarist_trigger.cron import CronError, CronExpression, parse_cron

MAX_DAYS = 366 * 8 + 2  # a Feb 29 cron fires within 8 years (2096 -> 2104 skips 2100)
MAX_CATCH_UP_STEPS = 2000
MAX_ZONE_NAME = 64
ONE_MICROSECOND = timedelta(microseconds=1)


class Kind(enum.StrEnum):
    INTERVAL = "interval"
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    DATES = "dates"
    CRON = "cron"


class TimingError(ValueError):
    """The timing is invalid; `problems` are (field, description) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {d}" for f, d in problems))
        self.problems = problems


@dataclass(frozen=True)
class Timing:
    kind: Kind
    interval_minutes: int = 0
    once_at: datetime | None = None  # naive local date and time
    time: tuple[int, int] = (0, 0)
    days: frozenset[int] = frozenset()
    dates: frozenset[tuple[int, int]] = frozenset()
    cron: str = ""
    origin: datetime | None = None  # INTERVAL: counted from here (set when it is defined)
    _cron: CronExpression | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.kind is Kind.INTERVAL:
            data["interval_minutes"] = self.interval_minutes
            if self.origin is not None:
                data["origin"] = self.origin.astimezone(UTC).isoformat()
        elif self.kind is Kind.ONCE and self.once_at is not None:
            data["once_at"] = self.once_at.strftime("%Y-%m-%dT%H:%M")
        elif self.kind is Kind.CRON:
            data["cron"] = self.cron
        else:
            data["time"] = f"{self.time[0]:02d}:{self.time[1]:02d}"
            if self.kind in (Kind.WEEKLY, Kind.MONTHLY):
                data["days"] = sorted(self.days)
            if self.kind is Kind.DATES:
                data["dates"] = [f"{m:02d}-{d:02d}" for m, d in sorted(self.dates)]
        return data

    def day_matches(self, day: date) -> bool:
        if self.kind is Kind.WEEKLY:
            return day.isoweekday() in self.days
        if self.kind is Kind.MONTHLY:
            return day.day in self.days
        if self.kind is Kind.DATES:
            return (day.month, day.day) in self.dates
        if self.kind is Kind.CRON and self._cron is not None:
            return self._cron.day_matches(day)
        return self.kind in (Kind.DAILY, Kind.ONCE)

    def times(self) -> list[tuple[int, int]]:
        if self._cron is not None:
            return self._cron.times()
        return [self.time]


def _clock_time(text: Any, where: str, problems: list[tuple[str, str]]) -> tuple[int, int]:
    try:
        parsed = time.fromisoformat(str(text))
    except ValueError:
        problems.append((where, "must be a time of day HH:MM"))
        return (0, 0)
    return (parsed.hour, parsed.minute)


def _month_day(text: str, problems: list[tuple[str, str]]) -> tuple[int, int]:
    try:
        month, day = (int(p) for p in text.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is a valid yearly date
    except ValueError:
        problems.append(("timing.dates", f"{text!r} is not a date MM-DD"))
        return (1, 1)
    return (month, day)


def _ints(
    raw: Any, low: int, high: int, where: str, problems: list[tuple[str, str]]
) -> frozenset[int]:
    values = raw if isinstance(raw, list) else []
    if not values or not all(isinstance(v, int) and low <= v <= high for v in values):
        problems.append((where, f"must list numbers within {low}..{high}"))
        return frozenset()
    return frozenset(values)


def _interval(data: dict[str, Any], problems: list[tuple[str, str]]) -> Timing:
    minutes = data.get("interval_minutes")
    if not isinstance(minutes, int) or not 1 <= minutes <= 366 * 24 * 60:
        problems.append(("timing.interval_minutes", "must be at least 1 (minutes)"))
        minutes = 1
    origin = None
    if data.get("origin"):
        try:
            origin = datetime.fromisoformat(str(data["origin"]))
        except ValueError:
            problems.append(("timing.origin", "must be an ISO instant"))
    return Timing(Kind.INTERVAL, interval_minutes=minutes, origin=origin)


def _once(data: dict[str, Any], problems: list[tuple[str, str]]) -> Timing:
    try:
        once = datetime.fromisoformat(str(data.get("once_at", "")))
    except ValueError:
        problems.append(("timing.once_at", "must be a local date and time YYYY-MM-DDTHH:MM"))
        once = datetime(2000, 1, 1)
    if once.tzinfo is not None:
        problems.append(("timing.once_at", "give a local time without offset; see time_zone"))
    once = once.replace(second=0, microsecond=0, tzinfo=None)
    return Timing(Kind.ONCE, once_at=once, time=(once.hour, once.minute))


def _cron(data: dict[str, Any], problems: list[tuple[str, str]]) -> Timing:
    text = str(data.get("cron", ""))
    try:
        return Timing(Kind.CRON, cron=text, _cron=parse_cron(text))
    except CronError as exc:
        problems.append(("timing.cron", str(exc)))
        return Timing(Kind.CRON, cron=text)


def _kind_fields(kind: Kind, data: dict[str, Any], problems: list[tuple[str, str]]) -> Timing:
    special = {Kind.INTERVAL: _interval, Kind.ONCE: _once, Kind.CRON: _cron}.get(kind)
    if special is not None:
        return special(data, problems)
    at = _clock_time(data.get("time", ""), "timing.time", problems)
    days: frozenset[int] = frozenset()
    if kind is Kind.WEEKLY:
        days = _ints(data.get("days"), 1, 7, "timing.days", problems)
    elif kind is Kind.MONTHLY:
        days = _ints(data.get("days"), 1, 31, "timing.days", problems)
    dates: frozenset[tuple[int, int]] = frozenset()
    if kind is Kind.DATES:
        raw = data.get("dates")
        if not isinstance(raw, list) or not raw:
            problems.append(("timing.dates", "must list dates MM-DD"))
            raw = []
        dates = frozenset(_month_day(str(d), problems) for d in raw)
    return Timing(kind, time=at, days=days, dates=dates)


def timing_from_json(data: dict[str, Any]) -> Timing:
    """The timing a JSON document (as stored, or built from the API) describes."""
    try:
        kind = Kind(str(data.get("kind")))
    except ValueError:
        raise TimingError([("timing.kind", "must be one of " + ", ".join(Kind))]) from None
    problems: list[tuple[str, str]] = []
    timing = _kind_fields(kind, data, problems)
    if problems:
        raise TimingError(problems)
    return timing


def zone(name: str) -> ZoneInfo:
    text = name or "UTC"
    try:
        if len(text) > MAX_ZONE_NAME:
            raise ValueError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimingError([("time_zone", f"unknown IANA time zone {text!r}")]) from None


def instant(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time; see the module docstring for skipped and repeated
    times (fold=0)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Calendar:
    """A timing in its zone and window: the slots a schedule fires at."""

    timing: Timing
    tz: ZoneInfo
    origin: datetime  # INTERVAL without start_at: the first slot is one interval after it
    start_at: datetime | None = None
    end_at: datetime | None = None

    def next_due(self, after: datetime) -> datetime | None:
        """The first slot strictly after `after` (an aware datetime), None when there is none."""
        lower = after
        if self.start_at is not None and self.start_at > after:
            lower = self.start_at - ONE_MICROSECOND  # the start itself may be a slot
        if self.timing.kind is Kind.INTERVAL:
            found: datetime | None = self._interval_next(lower)
        else:
            found = self._wall_next(lower)
        if found is None or (self.end_at is not None and found > self.end_at):
            return None
        return found

    def latest_due(self, slot: datetime, now: datetime) -> datetime:
        """The newest slot at or before `now`, starting from the due `slot` (Make's missed-runs
        policy: after downtime, fire once for the latest missed time, then continue)."""
        if self.timing.kind is Kind.INTERVAL:
            first = self._interval_first()
            step = timedelta(minutes=self.timing.interval_minutes)
            bound = now if self.end_at is None else min(now, self.end_at)
            return max(slot, first + ((bound - first) // step) * step)
        probe = self.next_due(max(slot, now - timedelta(days=1)))
        current = slot if probe is None or probe > now else probe
        for _ in range(MAX_CATCH_UP_STEPS):
            following = self.next_due(current)
            if following is None or following > now:
                break
            current = following
        return current

    def _interval_first(self) -> datetime:
        if self.start_at is not None:
            return self.start_at
        origin = self.timing.origin or self.origin
        return origin + timedelta(minutes=self.timing.interval_minutes)

    def _interval_next(self, after: datetime) -> datetime:
        first = self._interval_first()
        if after < first:
            return first
        step = timedelta(minutes=self.timing.interval_minutes)
        return first + ((after - first) // step + 1) * step

    def _wall_next(self, after: datetime) -> datetime | None:
        if self.timing.kind is Kind.ONCE:
            assert self.timing.once_at is not None
            moment = instant(self.timing.once_at, self.tz)
            return moment if moment > after else None
        local_after = after.astimezone(self.tz).replace(tzinfo=None)
        times = self.timing.times()
        day = local_after.date()
        for offset in range(MAX_DAYS):
            current = day + timedelta(days=offset)
            if not self.timing.day_matches(current):
                continue
            start = 0
            if offset == 0:
                start = bisect.bisect_right(times, (local_after.hour, local_after.minute))
            for hour, minute in times[start:]:
                moment = instant(datetime.combine(current, time(hour, minute)), self.tz)
                if moment > after:
                    return moment
        return None
