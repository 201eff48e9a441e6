"""In-memory ScheduleStore with the Postgres store's semantics: org scoping, newest-first paging,
claims that skip (never wait for) schedules another claim holds, and claim writes that apply only
when the claim block exits normally."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from scenarist_storage.errors import ConflictError
from scenarist_storage.memory._clock import Clock, clone, utc_now
from scenarist_storage.memory._seq_table import SeqTable
from scenarist_storage.models import Page
from scenarist_storage.schedule_models import (
    FireState,
    NewSchedule,
    ScheduleDefinition,
    ScheduleRecord,
)

BudgetKey = tuple[uuid.UUID, uuid.UUID]


class _MemoryClaim:
    def __init__(self, store: MemoryScheduleStore, schedules: list[ScheduleRecord]) -> None:
        self._store = store
        self._schedules = schedules
        self.saves: dict[uuid.UUID, FireState] = {}
        self.budgets: dict[BudgetKey, tuple[datetime, int]] = {}

    @property
    def schedules(self) -> list[ScheduleRecord]:
        return [clone(s) for s in self._schedules]

    async def save(self, schedule_id: uuid.UUID, state: FireState) -> None:
        self.saves[schedule_id] = clone(state)

    async def take_budget(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, window_start: datetime, limit: int
    ) -> bool:
        key = (org_id, scenario_id)
        window, started = self.budgets.get(key) or self._store.budgets.get(key) or (None, 0)
        if window != window_start:
            started = 0
        if started >= limit:
            return False
        self.budgets[key] = (window_start, started + 1)
        return True


class MemoryScheduleStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._table: SeqTable[ScheduleRecord] = SeqTable("schedule", "schedules")
        self._rows = self._table.rows  # the same dict: updates write rows in place
        self._claimed: set[uuid.UUID] = set()
        self.budgets: dict[BudgetKey, tuple[datetime, int]] = {}

    async def create(self, new: NewSchedule) -> ScheduleRecord:
        if new.id in self._rows:
            raise ConflictError("schedule id already exists")
        now = self._clock()
        record = ScheduleRecord(
            id=new.id,
            org_id=new.org_id,
            scenario_id=new.scenario_id,
            definition=clone(new.definition),
            paused=new.paused,
            state=FireState(next_due_at=new.next_due_at, attempt_at=new.next_due_at),
            created_at=now,
            updated_at=now,
        )
        self._table.insert(record)
        return clone(record)

    async def get(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> ScheduleRecord | None:
        return self._table.get(org_id, schedule_id)

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ScheduleRecord]:
        return self._table.page(org_id, scenario_id, page_size, page_token)

    def _replace(self, seq: int, record: ScheduleRecord, **changes: object) -> ScheduleRecord:
        updated = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
        self._rows[record.id] = (seq, updated)
        return clone(updated)

    async def redefine(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        definition: ScheduleDefinition,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        seq, record = self._table.owned(org_id, schedule_id)
        state = dataclasses.replace(
            record.state, next_due_at=next_due_at, attempt_at=next_due_at, last_error=""
        )
        return self._replace(
            seq, record, definition=clone(definition), state=state, updated_at=self._clock()
        )

    async def set_paused(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        paused: bool,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        seq, record = self._table.owned(org_id, schedule_id)
        state = dataclasses.replace(record.state, next_due_at=next_due_at, attempt_at=next_due_at)
        return self._replace(seq, record, paused=paused, state=state, updated_at=self._clock())

    async def delete(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> None:
        self._table.owned(org_id, schedule_id)
        del self._rows[schedule_id]

    def _claimable(self, record: ScheduleRecord, now: datetime, pending_before: datetime) -> bool:
        if record.id in self._claimed:
            return False
        state = record.state
        if state.pending is not None:
            return state.pending.since <= pending_before
        return not record.paused and state.attempt_at is not None and state.attempt_at <= now

    @asynccontextmanager
    async def claim_due(
        self, now: datetime, *, limit: int, pending_before: datetime
    ) -> AsyncIterator[_MemoryClaim]:
        due = [r for _, r in self._rows.values() if self._claimable(r, now, pending_before)]
        due.sort(key=_claim_order)
        claim = _MemoryClaim(self, due[:limit])
        ids = {r.id for r in due[:limit]}
        self._claimed |= ids
        try:
            yield claim
            for schedule_id, state in claim.saves.items():
                found = self._rows.get(schedule_id)
                if found is not None:
                    self._rows[schedule_id] = (found[0], dataclasses.replace(found[1], state=state))
            self.budgets.update(claim.budgets)
        finally:
            self._claimed -= ids

    async def clear_pending(self, schedule_id: uuid.UUID, key: str) -> bool:
        found = self._rows.get(schedule_id)
        if found is None or found[1].state.pending is None or found[1].state.pending.key != key:
            return False
        state = dataclasses.replace(found[1].state, pending=None)
        self._rows[schedule_id] = (found[0], dataclasses.replace(found[1], state=state))
        return True


def _claim_order(record: ScheduleRecord) -> datetime:
    pending = record.state.pending
    moment = pending.since if pending is not None else record.state.attempt_at
    assert moment is not None  # claimable rows have one or the other
    return moment
