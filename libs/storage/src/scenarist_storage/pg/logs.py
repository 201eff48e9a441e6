from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from scenarist_storage.models import RetentionResult, RunSummary, StepRecord
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
             updated_at, error)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (run_id) DO UPDATE SET
            scenario_id = excluded.scenario_id, status = excluded.status,
            operations = excluded.operations, started_at = excluded.started_at,
            finished_at = excluded.finished_at, updated_at = excluded.updated_at,
            error = excluded.error
        WHERE cur.org_id = excluded.org_id AND cur.updated_at <= excluded.updated_at
        RETURNING 1
    """,
    "summary": "SELECT * FROM {s}.run_summaries WHERE org_id = $1 AND run_id = $2",
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
        return [
            StepRecord(
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
            for r in rows
        ]

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
        )
        return row is not None

    async def get_run_summary(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunSummary | None:
        row = await self._pool.fetchrow(self._q["summary"], org_id, run_id)
        return _summary(row) if row is not None else None

    async def delete_older_than(self, ts: datetime) -> RetentionResult:
        return RetentionResult(
            steps=await self._sweep("delete_steps", ts),
            runs=await self._sweep("delete_summaries", ts),
        )

    async def _sweep(self, statement: str, ts: datetime) -> int:
        total = 0
        while True:
            status = await self._pool.execute(self._q[statement], ts, self._chunk)
            deleted = int(status.split()[-1])
            total += deleted
            if deleted < self._chunk:
                return total


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
    )
