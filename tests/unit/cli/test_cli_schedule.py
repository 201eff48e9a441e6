"""`scenarist schedule ...` argument handling: each Make option becomes the right ScheduleTiming
(no server needed)."""

from __future__ import annotations

import pytest
from scenarist.trigger.v1 import schedule_pb2
from scenarist_cli.commands_schedule import UsageError, definition, interval_minutes
from scenarist_cli.main import build_parser


def _definition(*options: str) -> object:
    args = build_parser().parse_args(["schedule", "create", "--scenario", "s", *options])
    return definition(args)


def test_every_daily_weekly_monthly_dates_once_and_cron() -> None:
    every = _definition("--every", "2h")
    assert every.timing.kind == schedule_pb2.SCHEDULE_KIND_INTERVAL  # type: ignore[attr-defined]
    assert every.timing.interval_minutes == 120  # type: ignore[attr-defined]
    daily = _definition("--daily", "09:00", "--tz", "Europe/Prague")
    assert daily.timing.time == "09:00" and daily.time_zone == "Europe/Prague"  # type: ignore[attr-defined]
    weekly = _definition("--weekly", "mon,fri,7", "--at", "08:30")
    assert list(weekly.timing.days) == [1, 5, 7] and weekly.timing.time == "08:30"  # type: ignore[attr-defined]
    monthly = _definition("--monthly", "1,15")
    assert list(monthly.timing.days) == [1, 15]  # type: ignore[attr-defined]
    dates = _definition("--dates", "12-24,12-31", "--at", "18:00")
    assert list(dates.timing.dates) == ["12-24", "12-31"]  # type: ignore[attr-defined]
    once = _definition("--once", "2030-01-01T00:00", "--end", "2030-02-01T00:00")
    assert once.timing.once_at == "2030-01-01T00:00" and once.HasField("end_at")  # type: ignore[attr-defined]
    cron = _definition("--cron", "*/5 * * * *", "--poll", "sheets:WatchRows")
    assert cron.timing.cron == "*/5 * * * *"  # type: ignore[attr-defined]
    assert (cron.poll.app, cron.poll.module) == ("sheets", "WatchRows")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "options",
    [[], ["--every", "15m", "--daily", "09:00"], ["--every", "soon"], ["--weekly", "someday"]],
)
def test_bad_options_are_usage_errors(options: list[str]) -> None:
    with pytest.raises(UsageError):
        _definition(*options)


def test_interval_units() -> None:
    assert [interval_minutes(t) for t in ("15", "15m", "1h", "1d")] == [15, 15, 60, 1440]
