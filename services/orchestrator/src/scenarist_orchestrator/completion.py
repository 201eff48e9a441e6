"""Automatic completion: the loop that retries incomplete executions by itself (Make's Break
"automatically complete execution", and stored ConnectionError/RateLimitError failures).

Every `poll_seconds` each orchestrator replica runs one tick:

1. discover: finished runs that parked bundles and have no schedules yet get one schedule per
   bundle. A bundle parked for the first time gets its plan from the engine
   (scenarist_engine.completion) and attempt 0; a bundle parked again by a retry run continues
   its parent's plan with attempt + 1 (the parent is the schedule whose retry run parked it).
   Attempt k is due at first parking + the plan's offset for k (interval × k for Break); with
   no attempt left the schedule is "manual": it stays incomplete for a person.
2. retry: due schedules are claimed (FOR UPDATE SKIP LOCKED plus a lease: one replica each)
   and retried through retrying.IncompleteRetry, the path RetryIncompleteExecution takes.
   The claim fixes the retry run's id first, so a claim retried after a crash creates the same
   run, and the closure (first writer wins) makes a person's retry or resolve win over ours.
3. follow up: a retry run that finished marks its schedule completed (success) or retried.

The clock is injectable (tests move it instead of waiting minutes); schedules compare against
it, never against the database's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from scenarist_engine.completion import RetryPlan, scenario_retry_plan
from scenarist_engine.machine import IncompleteExecution
from scenarist_engine.model import Scenario
from scenarist_engine.model.loading import scenario_from_data
from scenarist_storage.completion_models import (
    RETRY_CLOSED,
    RETRY_COMPLETED,
    RETRY_MANUAL,
    RETRY_RETRIED,
    RETRY_WAITING,
    IncompleteRetryStore,
    ParkingRun,
    RetrySchedule,
)
from scenarist_storage.ports import RunStore, ScenarioStore

from scenarist_orchestrator.api.incomplete import parked_items
from scenarist_orchestrator.retrying import IncompleteRetry

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_PARKED = TypeAdapter(IncompleteExecution)


_Versions = dict[tuple[uuid.UUID, int], Scenario | None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CompletionSettings:
    poll_seconds: float = 30.0
    # How long a claimed retry is ours; a replica that dies mid-retry frees it after this.
    lease_seconds: float = 300.0
    batch: int = 100
    # Discovery re-reads runs updated this long before the previous tick, so a run whose
    # transaction committed late (its updated_at is its transaction's start) is not missed.
    overlap: timedelta = timedelta(minutes=10)


def next_due(
    first_parked_at: datetime, plan_minutes: Sequence[float], attempts_made: int
) -> datetime | None:
    """When the automatic attempt after `attempts_made` is due; None when none is left."""
    offset = RetryPlan(tuple(plan_minutes)).offset_minutes(attempts_made + 1)
    return None if offset is None else first_parked_at + timedelta(minutes=offset)


def _parked_at(parking: ParkingRun) -> datetime:
    if parking.finished_at is not None:
        return datetime.fromtimestamp(parking.finished_at, UTC)
    return parking.updated_at


class AutomaticCompletion:
    def __init__(
        self,
        scenarios: ScenarioStore,
        runs: RunStore,
        schedules: IncompleteRetryStore,
        retry: IncompleteRetry,
        *,
        clock: Clock = utc_now,
        settings: CompletionSettings | None = None,
    ) -> None:
        self._scenarios = scenarios
        self._runs = runs
        self._schedules = schedules
        self._retry = retry
        self._clock = clock
        self._settings = settings or CompletionSettings()
        self._since: datetime | None = None  # None: discover from the beginning
        self.ticks = 0  # finished ticks (tests wait on it)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                # A periodic sweep: what failed is found again on the next tick, and the run
                # path must not stop because retries could not be scheduled for a while.
                log.exception("automatic completion tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._settings.poll_seconds)

    async def run_once(self) -> int:
        """One tick; returns how many retries it started."""
        await self.discover()
        started = await self.retry_due()
        await self.follow_up()
        self.ticks += 1
        return started

    # ----- discovery ---------------------------------------------------------------------------

    async def discover(self) -> int:
        """Schedule the bundles of newly finished runs; returns how many schedules were new."""
        # Wall time, not the injectable clock: it is compared with the rows' updated_at.
        tick_start = utc_now()
        added = 0
        while True:
            found = await self._schedules.discover(self._since, self._settings.batch)
            rows: list[RetrySchedule] = []
            versions: _Versions = {}
            for parking in found:
                rows.extend(await self._plan(parking, versions))
            new = await self._schedules.schedule(rows)
            added += new
            # A full batch that scheduled nothing holds only unreadable runs: do not spin on it.
            if len(found) < self._settings.batch or new == 0:
                break
        self._since = tick_start - self._settings.overlap
        return added

    async def _plan(self, parking: ParkingRun, versions: _Versions) -> list[RetrySchedule]:
        parent = await self._schedules.parent(parking.org_id, parking.run_id)
        rows = []
        for item in parking.items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            if parent is not None:
                attempt, first, plan = (
                    parent.attempt + 1,
                    parent.first_parked_at,
                    parent.plan_minutes,
                )
            else:
                scenario = await self._scenario(parking, versions)
                attempt, first = 0, _parked_at(parking)
                plan = _first_plan(scenario, item)
            due = next_due(first, plan, attempt)
            rows.append(
                RetrySchedule(
                    org_id=parking.org_id,
                    incomplete_id=item["id"],
                    run_id=parking.run_id,
                    scenario_id=parking.scenario_id,
                    attempt=attempt,
                    plan_minutes=plan,
                    first_parked_at=first,
                    due_at=due,
                    state=RETRY_WAITING if due is not None else RETRY_MANUAL,
                )
            )
        return rows

    async def _scenario(self, parking: ParkingRun, versions: _Versions) -> Scenario | None:
        """The scenario version the run used; None when deleted or unreadable (no retries)."""
        key = (parking.scenario_id, parking.version)
        if key not in versions:
            found = await self._scenarios.get(parking.org_id, parking.scenario_id, parking.version)
            try:
                versions[key] = scenario_from_data(found.document) if found else None
            except (ValidationError, ValueError, TypeError):
                versions[key] = None
        return versions[key]

    # ----- retries -----------------------------------------------------------------------------

    async def retry_due(self) -> int:
        now = self._clock()
        claimed = await self._schedules.claim_due(
            now, self._settings.lease_seconds, self._settings.batch
        )
        started = 0
        for schedule in claimed:
            try:
                started += await self._retry_one(schedule)
            except Exception:
                # Left claimed: when the lease ends it is due again, with the same retry run id.
                log.exception(
                    "automatic retry failed; trying again after the lease",
                    extra={"incomplete_execution_id": schedule.incomplete_id},
                )
        return started

    async def _retry_one(self, schedule: RetrySchedule) -> int:
        org_id, incomplete_id = schedule.org_id, schedule.incomplete_id
        record = await self._runs.get(org_id, schedule.run_id)
        items = parked_items(record) if record is not None else []
        item = next((i for i in items if i["id"] == incomplete_id), None)
        # A deleted scenario is not run again; its bundles wait for a person.
        scenario = await self._scenarios.get(org_id, schedule.scenario_id)
        if record is None or item is None or scenario is None:
            await self._schedules.set_state(org_id, incomplete_id, RETRY_MANUAL)
            return 0
        started = await self._retry.retry(org_id, record, item, schedule.retry_run_id)
        if started.run is None:
            await self._schedules.set_state(org_id, incomplete_id, RETRY_CLOSED)
            return 0
        log.info(
            "automatic retry started",
            extra={
                "incomplete_execution_id": incomplete_id,
                "attempt": schedule.attempt + 1,
                "of": len(schedule.plan_minutes),
                "run_id": str(started.run.id),
            },
        )
        return 1

    # ----- follow-up ---------------------------------------------------------------------------

    async def follow_up(self) -> int:
        """Record how finished retry runs ended; returns how many were recorded."""
        finished = await self._schedules.finished_retries(self._settings.batch)
        for entry in finished:
            state = RETRY_COMPLETED if entry.run_status == "success" else RETRY_RETRIED
            await self._schedules.set_state(
                entry.schedule.org_id, entry.schedule.incomplete_id, state
            )
        return len(finished)


def _first_plan(scenario: Scenario | None, item: dict[str, Any]) -> tuple[float, ...]:
    if scenario is None:
        return ()
    try:
        parked = _PARKED.validate_python(item)
    except ValidationError:
        return ()
    return scenario_retry_plan(scenario, parked).gaps_minutes
