"""Automatic completion of incomplete executions: when a parked bundle is retried by itself.

Make retries an incomplete execution automatically in two cases, and so do we:

- a Break directive with "Automatically complete execution" on (mapper `{retry: true,
  count: N, interval: M}`): N attempts, M minutes apart (Make's defaults 3 and 15; Make's
  largest interval is 44 640 minutes, 31 days);
- a bundle parked by "store incomplete executions" without an error handler, when the error is
  one a later attempt can fix (ConnectionError, RateLimitError and the module timeout): Make's
  fixed backoff of 1, 10, 10, 30, 30, 30, 180 and 180 minutes.

Attempt k (1-based) is due `offset_minutes(k)` after the bundle was first parked, so a slow retry
run does not push the later attempts back. The plan is decided once, when the bundle is first
parked; a retry that parks it again continues the same plan. Running the attempts needs the
platform (the orchestrator's automatic-completion loop); the in-process runner only shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarist_engine.errors import ErrorType
from scenarist_engine.machine.state import IncompleteExecution
from scenarist_engine.model import Scenario

DEFAULT_INTERVAL_MINUTES = 15.0
MIN_INTERVAL_MINUTES = 1.0  # ours: a zero interval would retry in a tight loop
MAX_INTERVAL_MINUTES = 44_640.0
MAX_ATTEMPTS = 100  # ours: Make documents no limit; a bound keeps a typo from retrying forever
STORED_ERROR_BACKOFF_MINUTES = (1.0, 10.0, 10.0, 30.0, 30.0, 30.0, 180.0, 180.0)
AUTOMATICALLY_RETRIED = frozenset(
    {ErrorType.CONNECTION.value, ErrorType.RATE_LIMIT.value, ErrorType.TIMEOUT.value}
)


@dataclass(frozen=True)
class RetryPlan:
    """The minutes between the automatic attempts of one parked bundle; empty: none."""

    gaps_minutes: tuple[float, ...] = ()

    @property
    def count(self) -> int:
        return len(self.gaps_minutes)

    def offset_minutes(self, attempt: int) -> float | None:
        """Minutes after the first parking that attempt `attempt` (1-based) is due; None when
        the plan has no such attempt."""
        if attempt < 1 or attempt > self.count:
            return None
        return sum(self.gaps_minutes[:attempt])


def _interval(value: float) -> float:
    minutes = value if value > 0 else DEFAULT_INTERVAL_MINUTES
    return min(max(minutes, MIN_INTERVAL_MINUTES), MAX_INTERVAL_MINUTES)


def retry_plan(item: IncompleteExecution, *, handled: bool) -> RetryPlan:
    """The plan of a bundle parked for the first time; `handled`: the failed module has an
    error handler (a Break without automatic completion then means "wait for a person")."""
    if item.retry_count > 0:
        count = min(item.retry_count, MAX_ATTEMPTS)
        return RetryPlan((_interval(item.retry_interval_minutes),) * count)
    if not handled and item.error.type in AUTOMATICALLY_RETRIED:
        return RetryPlan(STORED_ERROR_BACKOFF_MINUTES)
    return RetryPlan()


def scenario_retry_plan(scenario: Scenario, item: IncompleteExecution) -> RetryPlan:
    """`retry_plan` with `handled` read from the scenario the bundle was parked in."""
    module = next((m for m in scenario.walk() if m.id == item.module_id), None)
    return retry_plan(item, handled=module is not None and bool(module.onerror))
