from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from scenarist_storage.log_paging import check_one_per_run, step_key, summary_key
from scenarist_storage.models import Page, RetentionResult, RunSummary, StepRecord
from scenarist_storage.paging import check_page_size, decode_token, encode_token
from scenarist_storage.postgres import Pool, Record, qualify

_STATEMENTS = {
    # Redelivered steps hit the primary key and are skipped: the first write wins.
    "append": """
        INSERT INTO {s}.steps
            (org_id, run_id, task_id, attempt, module_id, status, started_at, finished_at, data)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::integer[], $5::text[],
                             $6::text[], $7::timestamptz[], $8::timestamptz[], $9::jsonb[])
        ON CONFLICT DO NOTHING
        RETURNING 1
    """,
    "steps": """
        SELECT org_id, run_id, task_id, attempt, module_id, status, started_at, finished_at, data
        FROM {s}.steps WHERE org_id = $1 AND run_id = $2
        ORDER BY started_at, task_id COLLATE "C", attempt
    """,
    # Out-of-order run events: a summary only replaces an older one of the same org.
    "upsert_summary": """
        INSERT INTO {s}.run_summaries AS cur
            (org_id, run_id, scenario_id, status, operations, started_at, finished_at,
             updated_at, error, scenario_version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (run_id) DO UPDATE SET
            scenario_id = excluded.scenario_id, status = excluded.status,
            operations = excluded.operations,
            started_at = LEAST(cur.started_at, excluded.started_at),
            finished_at = excluded.finished_at, updated_at = excluded.updated_at,
            error = excluded.error, scenario_version = excluded.scenario_version
        WHERE cur.org_id = excluded.org_id AND cur.updated_at <= excluded.updated_at
        RETURNING 1
    """,
    "upsert_summaries": """
        INSERT INTO {s}.run_summaries AS cur
            (org_id, run_id, scenario_id, status, operations, started_at, finished_at,
             updated_at, error, scenario_version)
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[],
                             $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
                             $9::jsonb[], $10::integer[])
        ON CONFLICT (run_id) DO UPDATE SET
            scenario_id = excluded.scenario_id, status = excluded.status,
            operations = excluded.operations,
            started_at = LEAST(cur.started_at, excluded.started_at),
            finished_at = excluded.finished_at, updated_at = excluded.updated_at,
            error = excluded.error, scenario_version = excluded.scenario_version
        WHERE cur.org_id = excluded.org_id AND cur.updated_at <= excluded.updated_at
        RETURNING 1
    """,
    "summary": "SELECT * FROM {s}.run_summaries WHERE org_id = $1 AND run_id = $2",
    "steps_page": """
        SELECT org_id, run_id, task_id, attempt, module_id, status, started_at, finished_at, data
        FROM {s}.steps WHERE org_id = $1 AND run_id = $2
            AND ($3::timestamptz IS NULL
                 OR (started_at, task_id COLLATE "C", attempt) > ($3, $4::text COLLATE "C", $5))
        ORDER BY started_at, task_id COLLATE "C", attempt
        LIMIT $6
    """,
    "has_run": """
        SELECT EXISTS (SELECT 1 FROM {s}.run_summaries WHERE org_id = $1 AND run_id = $2)
            OR EXISTS (SELECT 1 FROM {s}.steps WHERE org_id = $1 AND run_id = $2)
    """,
    "summaries_page": """
        SELECT * FROM {s}.run_summaries
        WHERE org_id = $1 AND ($2::uuid IS NULL OR scenario_id = $2)
            AND ($3::timestamptz IS NULL OR (started_at, run_id) < ($3, $4::uuid))
        ORDER BY started_at DESC, run_id DESC
        LIMIT $5
    """,
    "delete_runs": """
        WITH gone AS (
            DELETE FROM {s}.run_summaries
            WHERE org_id = $1 AND finished_at IS NOT NULL AND finished_at < $2
                AND ($3::uuid IS NULL OR scenario_id = $3)
            RETURNING run_id
        ), gone_steps AS (
            DELETE FROM {s}.steps st USING gone
            WHERE st.org_id = $1 AND st.run_id = gone.run_id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone) AS runs, (SELECT count(*) FROM gone_steps) AS steps
    """,
    # Retention deletes in bounded chunks so one sweep never holds locks on millions of rows.
    "delete_steps": """
        DELETE FROM {s}.steps WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM {s}.steps WHERE started_at < $1 LIMIT $2))
    """,
    "delete_summaries": """
        DELETE FROM {s}.run_summaries WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM {s}.run_summaries WHERE updated_at < $1 LIMIT $2))
    """,
}


class PgLogStore:
    def __init__(self, pool: Pool, schema: str = "log", *, retention_chunk: int = 5000) -> None:
        self._pool = pool
        self._chunk = retention_chunk
        self._q = {name: qualify(text, schema) for name, text in _STATEMENTS.items()}

    async def append_steps(self, batch: Sequence[StepRecord]) -> int:
        if not batch:
            return 0
        rows = await self._pool.fetch(
            self._q["append"],
            [s.org_id for s in batch],
            [s.run_id for s in batch],
            [s.task_id for s in batch],
            [s.attempt for s in batch],
            [s.module_id for s in batch],
            [s.status for s in batch],
            [s.started_at for s in batch],
            [s.finished_at for s in batch],
            [s.data for s in batch],
        )
        return len(rows)

    async def get_run_steps(self, org_id: uuid.UUID, run_id: uuid.UUID) -> list[StepRecord]:
        rows = await self._pool.fetch(self._q["steps"], org_id, run_id)
        return [_step(r) for r in rows]

    async def upsert_run_summary(self, summary: RunSummary) -> bool:
        row = await self._pool.fetchrow(
            self._q["upsert_summary"],
            summary.org_id,
            summary.run_id,
            summary.scenario_id,
            summary.status,
            summary.operations,
            summary.started_at,
            summary.finished_at,
            summary.updated_at,
            summary.error,
            summary.scenario_version,
        )
        return row is not None

    async def upsert_run_summaries(self, batch: Sequence[RunSummary]) -> int:
        check_one_per_run(batch)
        if not batch:
            return 0
        rows = await self._pool.fetch(
            self._q["upsert_summaries"],
            [s.org_id for s in batch],
            [s.run_id for s in batch],
            [s.scenario_id for s in batch],
            [s.status for s in batch],
            [s.operations for s in batch],
            [s.started_at for s in batch],
            [s.finished_at for s in batch],
            [s.updated_at for s in batch],
            [s.error for s in batch],
            [s.scenario_version for s in batch],
        )
        return len(rows)

    async def get_run_summary(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunSummary | None:
        row = await self._pool.fetchrow(self._q["summary"], org_id, run_id)
        return _summary(row) if row is not None else None

    async def delete_older_than(self, ts: datetime) -> RetentionResult:
        return RetentionResult(
            steps=await self._sweep("delete_steps", ts),
            runs=await self._sweep("delete_summaries", ts),
        )

    async def list_run_steps(
        self,
        org_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[StepRecord]:
        check_page_size(page_size)
        after: tuple[datetime, str, int] | tuple[None, None, None] = (None, None, None)
        if page_token:
            after = step_key(decode_token("steps", page_token, 3))
        rows = await self._pool.fetch(self._q["steps_page"], org_id, run_id, *after, page_size + 1)
        items = [_step(r) for r in rows[:page_size]]
        token = None
        if len(rows) > page_size:
            last = items[-1]
            token = encode_token("steps", [last.started_at.isoformat(), last.task_id, last.attempt])
        return Page(items, token)

    async def has_run(self, org_id: uuid.UUID, run_id: uuid.UUID) -> bool:
        return bool(await self._pool.fetchval(self._q["has_run"], org_id, run_id))

    async def list_run_summaries(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[RunSummary]:
        check_page_size(page_size)
        before: tuple[datetime, uuid.UUID] | tuple[None, None] = (None, None)
        if page_token:
            before = summary_key(decode_token("run_summaries", page_token, 2))
        rows = await self._pool.fetch(
            self._q["summaries_page"], org_id, scenario_id, *before, page_size + 1
        )
        items = [_summary(r) for r in rows[:page_size]]
        token = None
        if len(rows) > page_size:
            last = items[-1]
            token = encode_token("run_summaries", [last.started_at.isoformat(), str(last.run_id)])
        return Page(items, token)

    async def delete_runs(
        self, org_id: uuid.UUID, *, finished_before: datetime, scenario_id: uuid.UUID | None = None
    ) -> RetentionResult:
        row = await self._pool.fetchrow(
            self._q["delete_runs"], org_id, finished_before, scenario_id
        )
        assert row is not None
        return RetentionResult(steps=int(row["steps"]), runs=int(row["runs"]))

    async def _sweep(self, statement: str, ts: datetime) -> int:
        total = 0
        while True:
            status = await self._pool.execute(self._q[statement], ts, self._chunk)
            deleted = int(status.split()[-1])
            total += deleted
            if deleted < self._chunk:
                return total


def _step(r: Record) -> StepRecord:
    return StepRecord(
        org_id=r["org_id"],
        run_id=r["run_id"],
        task_id=r["task_id"],
        attempt=r["attempt"],
        module_id=r["module_id"],
        status=r["status"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        data=r["data"],
    )


def _summary(row: Record) -> RunSummary:
    return RunSummary(
        org_id=row["org_id"],
        run_id=row["run_id"],
        scenario_id=row["scenario_id"],
        status=row["status"],
        operations=row["operations"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        error=row["error"],
        scenario_version=row["scenario_version"],
    )
