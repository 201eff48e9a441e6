"""Automatic completion plans: which parked bundles are retried by themselves, when, and how the
in-process runner's result shows it (it plans, the platform retries)."""

from __future__ import annotations

from typing import Any

import pytest
from scenarist_engine.completion import (
    MAX_ATTEMPTS,
    MAX_INTERVAL_MINUTES,
    STORED_ERROR_BACKOFF_MINUTES,
    RetryPlan,
    retry_plan,
)
from scenarist_engine.machine.state import ErrorInfo, IncompleteExecution
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.runner import VirtualClock, run_scenario


def _parked(error: str = "DataError", count: int = 0, interval: float = 0.0) -> IncompleteExecution:
    return IncompleteExecution(
        id="r1/t3",
        module_id=3,
        path={},
        position=[],
        error=ErrorInfo(error, "failed"),
        attempts=1,
        retry_count=count,
        retry_interval_minutes=interval,
    )


def test_break_attempts_are_interval_times_attempt_after_the_first_parking() -> None:
    plan = retry_plan(_parked(count=3, interval=1), handled=True)
    assert plan.count == 3
    assert [plan.offset_minutes(k) for k in (1, 2, 3)] == [1.0, 2.0, 3.0]
    assert plan.offset_minutes(4) is None and plan.offset_minutes(0) is None


@pytest.mark.parametrize(
    ("interval", "expected"),
    [(0.0, 15.0), (0.25, 1.0), (90.0, 90.0), (1e9, MAX_INTERVAL_MINUTES)],
)
def test_the_interval_is_bounded(interval: float, expected: float) -> None:
    assert retry_plan(_parked(count=1, interval=interval), handled=True).gaps_minutes == (expected,)


def test_the_number_of_attempts_is_bounded() -> None:
    assert retry_plan(_parked(count=10**6, interval=5), handled=True).count == MAX_ATTEMPTS


@pytest.mark.parametrize("error", ["ConnectionError", "RateLimitError", "TimeoutError"])
def test_stored_transient_failures_follow_makes_backoff(error: str) -> None:
    plan = retry_plan(_parked(error), handled=False)
    assert plan.gaps_minutes == STORED_ERROR_BACKOFF_MINUTES
    assert [plan.offset_minutes(k) for k in (1, 2, 3, 8)] == [1.0, 11.0, 21.0, 471.0]


def test_no_automatic_retry_for_other_errors_or_a_break_without_it() -> None:
    assert retry_plan(_parked("DataError"), handled=False) == RetryPlan()
    # A Break handler that leaves automatic completion off: a person decides.
    assert retry_plan(_parked("ConnectionError"), handled=True) == RetryPlan()


def _breaking(mapper: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "breaking",
        "settings": {"store_incomplete": True},
        "flow": [
            {"id": 1, "module": "util:SetVariable2", "mapper": {"name": "x", "value": "1"}},
            {
                "id": 2,
                "module": "json:ParseJSON",
                "mapper": {"json": "not json"},
                "onerror": [{"id": 3, "module": "builtin:Break", "mapper": mapper}],
            },
        ],
    }


def test_the_run_result_shows_each_incomplete_executions_planned_retries() -> None:
    scenario = scenario_from_data(_breaking({"retry": True, "count": 2, "interval": 5}))
    result = run_scenario(scenario, clock=VirtualClock()).result()
    assert result["status"] == "warning"
    [item] = result["incomplete"]
    assert item["planned_retries"] == [
        {"attempt": 1, "after_minutes": 5.0},
        {"attempt": 2, "after_minutes": 10.0},
    ]


def test_a_break_without_automatic_completion_plans_nothing() -> None:
    scenario = scenario_from_data(_breaking({"retry": False}))
    [item] = run_scenario(scenario, clock=VirtualClock()).result()["incomplete"]
    assert item["planned_retries"] == []
