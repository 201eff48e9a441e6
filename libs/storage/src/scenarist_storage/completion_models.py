"""Automatic completion of incomplete executions: the retry schedule of each parked bundle.

The orchestrator's automatic-completion loop discovers finished runs that parked bundles, plans
each bundle's automatic retries (scenarist_engine.completion), claims the due ones (one replica
each: FOR UPDATE SKIP LOCKED plus a lease), retries them through RunService's retry path and
follows the retry runs up. Closures (incomplete_models) stay the first-writer-wins record of
"retried" and "resolved"; a schedule only says when to try and what came of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

RETRY_WAITING = "waiting"  # an automatic attempt is planned at due_at
RETRY_MANUAL = "manual"  # no automatic attempt (none planned, or all made): a person decides
RETRY_RETRYING = "retrying"  # a retry run was started; its outcome is not known yet
RETRY_COMPLETED = "completed"  # that retry run succeeded
RETRY_RETRIED = "retried"  # that retry run ended otherwise (it parked the bundle again, or failed)
RETRY_CLOSED = "closed"  # resolved by a person before its attempt was due
FINAL_RUN_STATUSES = ("success", "warning", "error", "cancelled")


@dataclass(frozen=True, slots=True)
class ParkingRun:
    """A finished run holding parked bundles that has no schedules yet."""

    org_id: uuid.UUID
    run_id: uuid.UUID
    scenario_id: uuid.UUID
    version: int
    items: list[Any]  # the run state's "incomplete" list, as stored
    finished_at: float | None  # the run state's end (Unix seconds), if recorded
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    org_id: uuid.UUID
    incomplete_id: str  # "<run_id>/<task id>", as in the run's state and the closures
    run_id: uuid.UUID  # the run that parked it
    scenario_id: uuid.UUID
    attempt: int  # automatic attempts made on this bundle before it was parked (0: first time)
    plan_minutes: tuple[float, ...]  # minutes between the automatic attempts; empty: none
    first_parked_at: datetime  # when the bundle was parked the first time (attempt 0)
    due_at: datetime | None  # when the next automatic attempt is due; None: no more
    state: str
    retry_run_id: uuid.UUID | None = None  # the run retrying it (claimed or started)
    claimed_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class FinishedRetry:
    schedule: RetrySchedule
    run_status: str  # the final status of its retry run


class IncompleteRetryStore(Protocol):
    async def discover(self, since: datetime | None, limit: int) -> list[ParkingRun]:
        """Finished runs (warning/error) with parked bundles and no schedules, updated at or
        after `since` (None: any time), oldest update first."""
        ...

    async def schedule(self, rows: Sequence[RetrySchedule]) -> int:
        """Store schedules unless they exist (first wins); returns how many were new."""
        ...

    async def parent(self, org_id: uuid.UUID, retry_run_id: uuid.UUID) -> RetrySchedule | None:
        """The schedule whose bundle `retry_run_id` retried (the lineage of a parked-again one)."""
        ...

    async def claim_due(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[RetrySchedule]:
        """Waiting schedules due at `now` and not leased, leased to the caller until
        now + lease; each keeps the retry run id of an earlier claim, or gets a new one."""
        ...

    async def set_state(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        state: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> bool:
        """Move a schedule to `state` (and its retry run id, when given), releasing any lease;
        False when there is no such schedule."""
        ...

    async def finished_retries(self, limit: int) -> list[FinishedRetry]:
        """Retrying schedules whose retry run has reached a final status."""
        ...

    async def get_many(
        self, org_id: uuid.UUID, incomplete_ids: Sequence[str]
    ) -> dict[str, RetrySchedule]:
        """Schedules of these incomplete executions, by incomplete id."""
        ...
