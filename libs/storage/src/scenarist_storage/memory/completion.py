"""In-memory IncompleteRetryStore with the Postgres store's semantics; it reads the runs of the
in-memory run store it is given (the Postgres store reads the same schema's runs table)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from scenarist_storage.completion_models import (
    FINAL_RUN_STATUSES,
    RETRY_RETRYING,
    RETRY_WAITING,
    FinishedRetry,
    ParkingRun,
    RetrySchedule,
)
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.models import RunRecord

PARKING_STATUSES = ("warning", "error")


def _parking(record: RunRecord) -> ParkingRun | None:
    items = record.state.get("incomplete")
    if record.status not in PARKING_STATUSES or not isinstance(items, list) or not items:
        return None
    finished = record.state.get("finished_at")
    return ParkingRun(
        org_id=record.org_id,
        run_id=record.id,
        scenario_id=record.scenario_id,
        version=record.version,
        items=list(items),
        finished_at=float(finished) if isinstance(finished, int | float) else None,
        updated_at=record.updated_at,
    )


class MemoryIncompleteRetryStore:
    def __init__(self, runs: MemoryRunStore) -> None:
        self._runs = runs
        self._rows: dict[tuple[uuid.UUID, str], RetrySchedule] = {}

    def _records(self) -> list[RunRecord]:
        return list(self._runs._runs.values())  # the same schema's table, as in Postgres

    async def discover(self, since: datetime | None, limit: int) -> list[ParkingRun]:
        scheduled = {(row.org_id, row.run_id) for row in self._rows.values()}
        found = [
            parking
            for record in self._records()
            if (record.org_id, record.id) not in scheduled
            and (since is None or record.updated_at >= since)
            and (parking := _parking(record)) is not None
        ]
        return sorted(found, key=lambda p: p.updated_at)[:limit]

    async def schedule(self, rows: Sequence[RetrySchedule]) -> int:
        added = 0
        for row in rows:
            key = (row.org_id, row.incomplete_id)
            if key not in self._rows:
                self._rows[key] = dataclasses.replace(row, claimed_until=None)
                added += 1
        return added

    async def parent(self, org_id: uuid.UUID, retry_run_id: uuid.UUID) -> RetrySchedule | None:
        return next(
            (
                row
                for row in self._rows.values()
                if row.org_id == org_id and row.retry_run_id == retry_run_id
            ),
            None,
        )

    async def claim_due(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[RetrySchedule]:
        due = sorted(
            (
                row
                for row in self._rows.values()
                if row.state == RETRY_WAITING
                and row.due_at is not None
                and row.due_at <= now
                and (row.claimed_until is None or row.claimed_until <= now)
            ),
            key=lambda row: (row.due_at or now, row.incomplete_id),
        )[:limit]
        claimed = []
        for row in due:
            updated = dataclasses.replace(
                row,
                claimed_until=now + timedelta(seconds=lease_seconds),
                retry_run_id=row.retry_run_id or uuid.uuid4(),
            )
            self._rows[(row.org_id, row.incomplete_id)] = updated
            claimed.append(updated)
        return claimed

    async def set_state(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        state: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> bool:
        key = (org_id, incomplete_id)
        row = self._rows.get(key)
        if row is None:
            return False
        self._rows[key] = dataclasses.replace(
            row, state=state, retry_run_id=retry_run_id or row.retry_run_id, claimed_until=None
        )
        return True

    async def finished_retries(self, limit: int) -> list[FinishedRetry]:
        found = []
        for row in self._rows.values():
            if row.state != RETRY_RETRYING or row.retry_run_id is None:
                continue
            run = self._runs._runs.get(row.retry_run_id)
            if run is not None and run.org_id == row.org_id and run.status in FINAL_RUN_STATUSES:
                found.append(FinishedRetry(row, run.status))
        return found[:limit]

    async def get_many(
        self, org_id: uuid.UUID, incomplete_ids: Sequence[str]
    ) -> dict[str, RetrySchedule]:
        return {
            incomplete_id: self._rows[(org_id, incomplete_id)]
            for incomplete_id in incomplete_ids
            if (org_id, incomplete_id) in self._rows
        }
