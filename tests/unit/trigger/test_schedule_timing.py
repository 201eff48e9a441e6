"""Next-due computation for every schedule kind, incl. DST boundaries, windows and cron."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scenarist_trigger.cron import CronError, parse_cron
from scenarist_trigger.timing import Calendar, TimingError, timing_from_json, zone

PRAGUE = "Europe/Prague"
NEW_YORK = "America/New_York"
ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)


def cal(timing: dict[str, Any], tz: str = "UTC", **window: datetime) -> Calendar:
    return Calendar(timing_from_json(timing), zone(tz), origin=ORIGIN, **window)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def series(calendar: Calendar, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    for _ in range(count):
        nxt = calendar.next_due(after)
        if nxt is None:
            break
        found.append(nxt)
        after = nxt
    return found


def local(moments: list[datetime], tz: str) -> list[str]:
    return [m.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z") for m in moments]


def test_interval_counts_elapsed_minutes_from_its_origin() -> None:
    every = cal({"kind": "interval", "interval_minutes": 15, "origin": "2025-01-01T00:00:00+00:00"})
    assert series(every, utc(2025, 1, 1), 3) == [
        utc(2025, 1, 1, 0, 15),
        utc(2025, 1, 1, 0, 30),
        utc(2025, 1, 1, 0, 45),
    ]
    assert every.next_due(utc(2025, 1, 1, 0, 31)) == utc(2025, 1, 1, 0, 45)


def test_interval_ignores_dst_and_start_at_is_the_first_slot() -> None:
    start = utc(2025, 3, 30, 0, 30)
    every = cal({"kind": "interval", "interval_minutes": 60}, PRAGUE, start_at=start)
    assert series(every, utc(2025, 3, 29), 3) == [
        start,
        utc(2025, 3, 30, 1, 30),
        utc(2025, 3, 30, 2, 30),
    ]


def test_once_fires_once_then_is_finished() -> None:
    once = cal({"kind": "once", "once_at": "2025-06-01T09:00"}, PRAGUE)
    first = once.next_due(utc(2025, 5, 1))
    assert first == utc(2025, 6, 1, 7)
    assert once.next_due(first) is None


def test_daily_in_a_zone() -> None:
    daily = cal({"kind": "daily", "time": "09:00"}, NEW_YORK)
    assert local(series(daily, utc(2025, 7, 1), 2), NEW_YORK) == [
        "2025-07-01 09:00 EDT",
        "2025-07-02 09:00 EDT",
    ]


def test_days_of_the_week() -> None:
    weekly = cal({"kind": "weekly", "days": [1, 5], "time": "08:30"})
    # 2025-07-02 is a Wednesday: Friday, Monday, Friday follow.
    assert series(weekly, utc(2025, 7, 2), 3) == [
        utc(2025, 7, 4, 8, 30),
        utc(2025, 7, 7, 8, 30),
        utc(2025, 7, 11, 8, 30),
    ]


def test_days_of_the_month_skip_short_months() -> None:
    monthly = cal({"kind": "monthly", "days": [31], "time": "06:00"})
    assert series(monthly, utc(2025, 1, 31, 7), 2) == [utc(2025, 3, 31, 6), utc(2025, 5, 31, 6)]


def test_specified_dates_repeat_every_year() -> None:
    dates = cal({"kind": "dates", "dates": ["12-24", "02-29"], "time": "18:00"})
    assert series(dates, utc(2025, 12, 25), 3) == [
        utc(2026, 12, 24, 18),
        utc(2027, 12, 24, 18),
        utc(2028, 2, 29, 18),
    ]


def test_cron_with_names_ranges_steps_and_either_day_rule() -> None:
    workdays = cal({"kind": "cron", "cron": "*/20 9-10 * * mon-fri"})
    # Friday 2025-07-04 10:50 -> Monday 09:00.
    assert series(workdays, utc(2025, 7, 4, 10, 50), 2) == [
        utc(2025, 7, 7, 9),
        utc(2025, 7, 7, 9, 20),
    ]
    either = cal({"kind": "cron", "cron": "0 0 13 * fri"})  # the 13th OR a Friday
    assert series(either, utc(2025, 6, 10), 2) == [utc(2025, 6, 13), utc(2025, 6, 20)]
    assert cal({"kind": "cron", "cron": "@monthly"}).next_due(utc(2025, 6, 10)) == utc(2025, 7, 1)


def test_cron_that_never_fires_has_no_next_due() -> None:
    assert cal({"kind": "cron", "cron": "0 0 30 2 *"}).next_due(utc(2025, 1, 1)) is None


@pytest.mark.parametrize(
    "expression",
    [
        "* * * *",
        "60 * * * *",
        "* 24 * * *",
        "5-1 * * * *",
        "*/0 * * * *",
        "* * * foo *",
        ",1 * * * *",
    ],
)
def test_bad_cron_expressions_are_refused(expression: str) -> None:
    with pytest.raises(CronError):
        parse_cron(expression)
    with pytest.raises(TimingError) as caught:
        timing_from_json({"kind": "cron", "cron": expression})
    assert caught.value.problems[0][0] == "timing.cron"


@pytest.mark.parametrize(
    ("timing", "field"),
    [
        ({"kind": "weekly", "days": [0], "time": "08:00"}, "timing.days"),
        ({"kind": "daily", "time": "25:00"}, "timing.time"),
        ({"kind": "dates", "dates": ["02-30"], "time": "08:00"}, "timing.dates"),
        ({"kind": "interval", "interval_minutes": 0}, "timing.interval_minutes"),
        ({"kind": "once", "once_at": "2025-01-01T00:00+01:00"}, "timing.once_at"),
        ({"kind": "hourly"}, "timing.kind"),
    ],
)
def test_bad_timings_name_the_field(timing: dict[str, Any], field: str) -> None:
    with pytest.raises(TimingError) as caught:
        timing_from_json(timing)
    assert caught.value.problems[0][0] == field


def test_unknown_time_zone() -> None:
    with pytest.raises(TimingError):
        zone("Mars/Olympus_Mons")
    with pytest.raises(TimingError):
        zone("/etc/passwd")


# ----- DST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "time", "before", "expected"),
    [
        # Spring forward: 02:30 does not exist; it fires once, at the shifted 03:30.
        (PRAGUE, "02:30", utc(2025, 3, 29, 12), ["2025-03-30 03:30 CEST", "2025-03-31 02:30 CEST"]),
        (NEW_YORK, "02:30", utc(2025, 3, 8, 12), ["2025-03-09 03:30 EDT", "2025-03-10 02:30 EDT"]),
        # Fall back: 02:30 (Prague) and 01:30 (New York) happen twice; it fires once, the first.
        (PRAGUE, "02:30", utc(2025, 10, 25, 12), ["2025-10-26 02:30 CEST", "2025-10-27 02:30 CET"]),
        (NEW_YORK, "01:30", utc(2025, 11, 1, 12), ["2025-11-02 01:30 EDT", "2025-11-03 01:30 EST"]),
    ],
)
def test_daily_across_dst(tz: str, time: str, before: datetime, expected: list[str]) -> None:
    daily = cal({"kind": "daily", "time": time}, tz)
    assert local(series(daily, before, 2), tz) == expected


def test_every_half_hour_cron_across_spring_forward_fires_each_instant_once() -> None:
    cron = cal({"kind": "cron", "cron": "*/30 * * * *"}, PRAGUE)
    fired = series(cron, utc(2025, 3, 30, 0, 15), 4)
    assert local(fired, PRAGUE) == [
        "2025-03-30 01:30 CET",
        "2025-03-30 03:00 CEST",
        "2025-03-30 03:30 CEST",
        "2025-03-30 04:00 CEST",
    ]
    assert len(set(fired)) == len(fired)


def test_every_half_hour_cron_across_fall_back_fires_each_wall_time_once() -> None:
    cron = cal({"kind": "cron", "cron": "*/30 * * * *"}, NEW_YORK)
    fired = series(cron, utc(2025, 11, 2, 4, 45), 4)
    assert local(fired, NEW_YORK) == [
        "2025-11-02 01:00 EDT",
        "2025-11-02 01:30 EDT",
        "2025-11-02 02:00 EST",  # the repeated 01:00-01:59 EST is not fired again
        "2025-11-02 02:30 EST",
    ]


# ----- windows and the missed-runs policy --------------------------------------------------------


def test_start_and_end_dates() -> None:
    daily = cal(
        {"kind": "daily", "time": "12:00"},
        start_at=utc(2025, 5, 3, 12),
        end_at=utc(2025, 5, 4, 12),
    )
    assert series(daily, utc(2025, 5, 1), 5) == [utc(2025, 5, 3, 12), utc(2025, 5, 4, 12)]


def test_latest_due_fires_once_for_the_newest_missed_slot() -> None:
    daily = cal({"kind": "daily", "time": "12:00"}, PRAGUE)
    slot = utc(2025, 5, 1, 10)
    assert daily.latest_due(slot, utc(2025, 5, 1, 10, 5)) == slot  # only late, nothing missed
    assert daily.latest_due(slot, utc(2025, 5, 9, 9)) == utc(2025, 5, 8, 10)
    every = cal({"kind": "interval", "interval_minutes": 15, "origin": ORIGIN.isoformat()})
    down = every.latest_due(utc(2025, 1, 1, 0, 15), utc(2025, 3, 1, 7, 7))
    assert down == utc(2025, 3, 1, 7)
    minutely = cal({"kind": "cron", "cron": "* * * * *"})
    assert minutely.latest_due(utc(2025, 1, 1), utc(2025, 2, 1, 0, 0, 30)) == utc(2025, 2, 1)


def test_latest_due_respects_the_end() -> None:
    every = cal(
        {"kind": "interval", "interval_minutes": 60, "origin": ORIGIN.isoformat()},
        end_at=utc(2025, 1, 1, 5),
    )
    assert every.latest_due(utc(2025, 1, 1, 1), utc(2025, 1, 2)) == utc(2025, 1, 1, 5)
    assert every.next_due(utc(2025, 1, 1, 5)) is None
    assert every.next_due(utc(2025, 1, 1, 4, 30)) == utc(2025, 1, 1, 5)


def test_to_json_round_trips() -> None:
    for data in (
        {"kind": "weekly", "days": [1, 7], "time": "08:05"},
        {"kind": "dates", "dates": ["01-02"], "time": "00:00"},
        {"kind": "cron", "cron": "0 * * * *"},
        {"kind": "once", "once_at": "2030-01-01T00:00"},
    ):
        assert timing_from_json(data).to_json() == data
    interval = timing_from_json(
        {"kind": "interval", "interval_minutes": 5, "origin": ORIGIN.isoformat()}
    )
    assert interval.to_json()["origin"] == ORIGIN.isoformat()
    assert timedelta(minutes=interval.interval_minutes) == timedelta(minutes=5)
