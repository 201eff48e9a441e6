"""Postgres ScheduleStore: schedules and the per-scenario run budget in the trigger schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]

from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.models import Page
from scenarist_storage.paging import check_page_size, seq_before, seq_page
from scenarist_storage.postgres import Connection, Pool, Record, qualify
from scenarist_storage.schedule_models import (
    FireState,
    NewSchedule,
    PendingFire,
    ScheduleDefinition,
    ScheduleRecord,
)

_COLUMNS = """
seq, id, org_id, scenario_id, name, timing, time_zone, start_at, end_at, max_runs_per_minute,
poll, paused, next_due_at, attempt_at, cursor, seen_ids, pending_key, pending_message,
pending_since, last_fired_at, last_error, created_at, updated_at
"""
_INSERT = """
INSERT INTO {s}.schedules (id, org_id, scenario_id, name, timing, time_zone, start_at, end_at,
  max_runs_per_minute, poll, paused, next_due_at, attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
RETURNING {cols}
"""
_GET = "SELECT {cols} FROM {s}.schedules WHERE org_id = $1 AND id = $2"
_LIST = """
SELECT {cols} FROM {s}.schedules
WHERE org_id = $1 AND ($2::uuid IS NULL OR scenario_id = $2) AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq DESC
LIMIT $4
"""
_REDEFINE = """
UPDATE {s}.schedules SET name = $3, timing = $4, time_zone = $5, start_at = $6, end_at = $7,
  max_runs_per_minute = $8, poll = $9, next_due_at = $10, attempt_at = $10, last_error = '',
  updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING {cols}
"""
_PAUSE = """
UPDATE {s}.schedules SET paused = $3, next_due_at = $4, attempt_at = $4, updated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING {cols}
"""
_DELETE = "DELETE FROM {s}.schedules WHERE org_id = $1 AND id = $2 RETURNING id"
_CLAIM = """
SELECT {cols} FROM {s}.schedules
WHERE (pending_message IS NULL AND NOT paused AND attempt_at <= $1)
   OR (pending_message IS NOT NULL AND pending_since <= $2)
ORDER BY coalesce(pending_since, attempt_at)
LIMIT $3
FOR UPDATE SKIP LOCKED
"""
_SAVE = """
UPDATE {s}.schedules SET next_due_at = $2, attempt_at = $3, cursor = $4, seen_ids = $5,
  pending_key = $6, pending_message = $7, pending_since = $8, last_fired_at = $9,
  last_error = $10
WHERE id = $1
"""
_CLEAR = """
UPDATE {s}.schedules SET pending_key = NULL, pending_message = NULL, pending_since = NULL
WHERE id = $1 AND pending_key = $2
RETURNING id
"""
# Counts one start unless the minute's budget is spent; a new minute starts from one.
_BUDGET = """
INSERT INTO {s}.scenario_run_budgets AS b (org_id, scenario_id, window_start, started)
VALUES ($1, $2, $3, 1)
ON CONFLICT (org_id, scenario_id) DO UPDATE
SET started = CASE WHEN b.window_start = EXCLUDED.window_start THEN b.started + 1 ELSE 1 END,
    window_start = EXCLUDED.window_start
WHERE b.window_start <> EXCLUDED.window_start OR b.started < $4
RETURNING started
"""


class _PgClaim:
    def __init__(self, conn: Connection, queries: dict[str, str], rows: list[Record]) -> None:
        self._conn = conn
        self._q = queries
        self._schedules = [_record(r) for r in rows]

    @property
    def schedules(self) -> list[ScheduleRecord]:
        return list(self._schedules)

    async def save(self, schedule_id: uuid.UUID, state: FireState) -> None:
        pending = state.pending
        await self._conn.execute(
            self._q["save"],
            schedule_id,
            state.next_due_at,
            state.attempt_at,
            state.cursor,
            list(state.seen),
            pending.key if pending else None,
            pending.message if pending else None,
            pending.since if pending else None,
            state.last_fired_at,
            state.last_error,
        )

    async def take_budget(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, window_start: datetime, limit: int
    ) -> bool:
        row = await self._conn.fetchrow(self._q["budget"], org_id, scenario_id, window_start, limit)
        return row is not None


class PgScheduleStore:
    def __init__(self, pool: Pool, schema: str = "trigger") -> None:
        self._pool = pool
        sqls = {
            "insert": _INSERT,
            "get": _GET,
            "list": _LIST,
            "redefine": _REDEFINE,
            "pause": _PAUSE,
            "delete": _DELETE,
            "claim": _CLAIM,
            "save": _SAVE,
            "clear": _CLEAR,
            "budget": _BUDGET,
        }
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def create(self, new: NewSchedule) -> ScheduleRecord:
        d = new.definition
        try:
            row = await self._pool.fetchrow(
                self._q["insert"],
                new.id,
                new.org_id,
                new.scenario_id,
                *_definition_args(d),
                new.paused,
                new.next_due_at,
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError("schedule id already exists") from exc
        assert row is not None
        return _record(row)

    async def get(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> ScheduleRecord | None:
        row = await self._pool.fetchrow(self._q["get"], org_id, schedule_id)
        return _record(row) if row is not None else None

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ScheduleRecord]:
        check_page_size(page_size)
        before = seq_before("schedules", page_token)
        rows = await self._pool.fetch(self._q["list"], org_id, scenario_id, before, page_size + 1)
        return seq_page("schedules", [(int(r["seq"]), _record(r)) for r in rows], page_size)

    async def redefine(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        definition: ScheduleDefinition,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        row = await self._pool.fetchrow(
            self._q["redefine"], org_id, schedule_id, *_definition_args(definition), next_due_at
        )
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found")
        return _record(row)

    async def set_paused(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        paused: bool,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        row = await self._pool.fetchrow(self._q["pause"], org_id, schedule_id, paused, next_due_at)
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found")
        return _record(row)

    async def delete(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["delete"], org_id, schedule_id) is None:
            raise NotFoundError(f"schedule {schedule_id} not found")

    @asynccontextmanager
    async def claim_due(
        self, now: datetime, *, limit: int, pending_before: datetime
    ) -> AsyncIterator[_PgClaim]:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(self._q["claim"], now, pending_before, limit)
            yield _PgClaim(conn, self._q, rows)

    async def clear_pending(self, schedule_id: uuid.UUID, key: str) -> bool:
        return await self._pool.fetchrow(self._q["clear"], schedule_id, key) is not None


def _definition_args(d: ScheduleDefinition) -> tuple[object, ...]:
    return (
        d.name,
        d.timing,
        d.time_zone,
        d.start_at,
        d.end_at,
        d.max_runs_per_minute,
        d.poll,
    )


def _record(row: Record) -> ScheduleRecord:
    pending = None
    if row["pending_message"] is not None:
        pending = PendingFire(
            key=row["pending_key"],
            message=bytes(row["pending_message"]),
            since=row["pending_since"],
        )
    definition = ScheduleDefinition(
        name=row["name"],
        timing=dict(row["timing"]),
        time_zone=row["time_zone"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        max_runs_per_minute=row["max_runs_per_minute"],
        poll=dict(row["poll"]) if row["poll"] is not None else None,
    )
    state = FireState(
        next_due_at=row["next_due_at"],
        attempt_at=row["attempt_at"],
        cursor=row["cursor"],
        seen=tuple(str(s) for s in row["seen_ids"]),
        pending=pending,
        last_fired_at=row["last_fired_at"],
        last_error=row["last_error"],
    )
    return ScheduleRecord(
        id=row["id"],
        org_id=row["org_id"],
        scenario_id=row["scenario_id"],
        definition=definition,
        paused=row["paused"],
        state=state,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
