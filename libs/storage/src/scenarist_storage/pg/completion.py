"""Postgres IncompleteRetryStore: retry schedules of parked bundles in the orchestrator schema.

It reads the orchestrator's own `runs` table (same schema): discovery finds finished runs whose
state holds parked bundles, and the follow-up joins each retry run's status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from scenarist_storage.completion_models import (
    FinishedRetry,
    ParkingRun,
    RetrySchedule,
)
from scenarist_storage.postgres import Pool, Record, qualify

_COLUMNS = """
x.org_id, x.incomplete_id, x.run_id, x.scenario_id, x.attempt, x.plan_minutes,
x.first_parked_at, x.due_at, x.state, x.retry_run_id, x.claimed_until
"""
_STATEMENTS = {
    # The predicate repeats runs_parking_idx's so the planner can use it.
    "discover": """
        SELECT r.org_id, r.id, r.scenario_id, r.version, r.state -> 'incomplete' AS items,
               r.state -> 'finished_at' AS finished_at, r.updated_at
        FROM {s}.runs r
        WHERE r.status IN ('warning', 'error') AND r.state -> 'incomplete' <> '[]'::jsonb
          AND jsonb_typeof(r.state -> 'incomplete') = 'array'
          AND ($1::timestamptz IS NULL OR r.updated_at >= $1)
          AND NOT EXISTS (SELECT 1 FROM {s}.incomplete_retries x
                          WHERE x.org_id = r.org_id AND x.run_id = r.id)
        ORDER BY r.updated_at
        LIMIT $2
    """,
    "schedule": """
        INSERT INTO {s}.incomplete_retries AS x (org_id, incomplete_id, run_id, scenario_id,
            attempt, plan_minutes, first_parked_at, due_at, state, retry_run_id)
        SELECT w.org_id, w.incomplete_id, w.run_id, w.scenario_id, w.attempt,
               w.plan::double precision[],
               w.first_parked_at, w.due_at, w.state, w.retry_run_id
        FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::integer[], $6::text[],
                    $7::timestamptz[], $8::timestamptz[], $9::text[], $10::uuid[])
             AS w(org_id, incomplete_id, run_id, scenario_id, attempt, plan, first_parked_at,
                  due_at, state, retry_run_id)
        ON CONFLICT (org_id, incomplete_id) DO NOTHING
        RETURNING x.incomplete_id
    """,
    "parent": """
        SELECT {cols} FROM {s}.incomplete_retries x
        WHERE x.org_id = $1 AND x.retry_run_id = $2
        LIMIT 1
    """,
    # SKIP LOCKED: replicas claiming at the same moment take disjoint rows; the lease keeps a
    # claimed row from being claimed again until its claimer has had time to retry it.
    "claim_due": """
        UPDATE {s}.incomplete_retries x
        SET claimed_until = $1 + make_interval(secs => $2),
            retry_run_id = COALESCE(x.retry_run_id, gen_random_uuid())
        WHERE (x.org_id, x.incomplete_id) IN (
            SELECT org_id, incomplete_id FROM {s}.incomplete_retries
            WHERE state = 'waiting' AND due_at <= $1
              AND (claimed_until IS NULL OR claimed_until <= $1)
            ORDER BY due_at
            LIMIT $3
            FOR UPDATE SKIP LOCKED)
        RETURNING {cols}
    """,
    "set_state": """
        UPDATE {s}.incomplete_retries x
        SET state = $3, retry_run_id = COALESCE($4, x.retry_run_id), claimed_until = NULL
        WHERE x.org_id = $1 AND x.incomplete_id = $2
    """,
    "finished": """
        SELECT {cols}, r.status AS run_status
        FROM {s}.incomplete_retries x
        JOIN {s}.runs r ON r.org_id = x.org_id AND r.id = x.retry_run_id
        WHERE x.state = 'retrying'
          AND r.status IN ('success', 'warning', 'error', 'cancelled')
        LIMIT $1
    """,
    "get_many": """
        SELECT {cols} FROM {s}.incomplete_retries x
        WHERE x.org_id = $1 AND x.incomplete_id = ANY($2::text[])
    """,
}


def _array(minutes: Sequence[float]) -> str:
    """A double precision[] literal (repr of a float is exact and never needs quoting)."""
    return "{" + ",".join(repr(float(m)) for m in minutes) + "}"


def _schedule(row: Record) -> RetrySchedule:
    return RetrySchedule(
        org_id=row["org_id"],
        incomplete_id=row["incomplete_id"],
        run_id=row["run_id"],
        scenario_id=row["scenario_id"],
        attempt=int(row["attempt"]),
        plan_minutes=tuple(float(m) for m in row["plan_minutes"]),
        first_parked_at=row["first_parked_at"],
        due_at=row["due_at"],
        state=row["state"],
        retry_run_id=row["retry_run_id"],
        claimed_until=row["claimed_until"],
    )


def _parking(row: Record) -> ParkingRun:
    finished = row["finished_at"]
    return ParkingRun(
        org_id=row["org_id"],
        run_id=row["id"],
        scenario_id=row["scenario_id"],
        version=int(row["version"]),
        items=list(row["items"]),
        finished_at=float(finished) if isinstance(finished, int | float) else None,
        updated_at=row["updated_at"],
    )


class PgIncompleteRetryStore:
    def __init__(self, pool: Pool, schema: str = "orchestrator") -> None:
        self._pool = pool
        self._q = {
            name: qualify(sql.replace("{cols}", _COLUMNS), schema)
            for name, sql in _STATEMENTS.items()
        }

    async def discover(self, since: datetime | None, limit: int) -> list[ParkingRun]:
        rows = await self._pool.fetch(self._q["discover"], since, limit)
        return [_parking(row) for row in rows]

    async def schedule(self, rows: Sequence[RetrySchedule]) -> int:
        if not rows:
            return 0
        inserted = await self._pool.fetch(
            self._q["schedule"],
            [r.org_id for r in rows],
            [r.incomplete_id for r in rows],
            [r.run_id for r in rows],
            [r.scenario_id for r in rows],
            [r.attempt for r in rows],
            [_array(r.plan_minutes) for r in rows],
            [r.first_parked_at for r in rows],
            [r.due_at for r in rows],
            [r.state for r in rows],
            [r.retry_run_id for r in rows],
        )
        return len(inserted)

    async def parent(self, org_id: uuid.UUID, retry_run_id: uuid.UUID) -> RetrySchedule | None:
        row = await self._pool.fetchrow(self._q["parent"], org_id, retry_run_id)
        return _schedule(row) if row is not None else None

    async def claim_due(
        self, now: datetime, lease_seconds: float, limit: int
    ) -> list[RetrySchedule]:
        rows = await self._pool.fetch(self._q["claim_due"], now, lease_seconds, limit)
        return sorted(
            (_schedule(row) for row in rows), key=lambda s: (s.due_at or now, s.incomplete_id)
        )

    async def set_state(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        state: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> bool:
        status = await self._pool.execute(
            self._q["set_state"], org_id, incomplete_id, state, retry_run_id
        )
        return status.split()[-1] != "0"

    async def finished_retries(self, limit: int) -> list[FinishedRetry]:
        rows = await self._pool.fetch(self._q["finished"], limit)
        return [FinishedRetry(_schedule(row), row["run_status"]) for row in rows]

    async def get_many(
        self, org_id: uuid.UUID, incomplete_ids: Sequence[str]
    ) -> dict[str, RetrySchedule]:
        if not incomplete_ids:
            return {}
        rows = await self._pool.fetch(self._q["get_many"], org_id, list(incomplete_ids))
        return {row["incomplete_id"]: _schedule(row) for row in rows}
