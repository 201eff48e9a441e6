"""Postgres IncompleteStore: closures of incomplete executions in the orchestrator schema."""

from __future__ import annotations

import uuid

from scenarist_storage.incomplete_models import IncompleteClosure
from scenarist_storage.postgres import Pool, Record, qualify

_COLUMNS = "org_id, incomplete_id, run_id, status, retry_run_id, closed_at"
_INSERT = """
INSERT INTO {s}.incomplete_closures (org_id, incomplete_id, run_id, status, retry_run_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (org_id, incomplete_id) DO NOTHING
RETURNING {cols}
"""
_GET = "SELECT {cols} FROM {s}.incomplete_closures WHERE org_id = $1 AND incomplete_id = $2"
_BY_RUNS = "SELECT {cols} FROM {s}.incomplete_closures WHERE org_id = $1 AND run_id = ANY($2)"


def _closure(row: Record) -> IncompleteClosure:
    return IncompleteClosure(
        org_id=row["org_id"],
        incomplete_id=row["incomplete_id"],
        run_id=row["run_id"],
        status=row["status"],
        retry_run_id=row["retry_run_id"],
        closed_at=row["closed_at"],
    )


class PgIncompleteStore:
    def __init__(self, pool: Pool, schema: str = "orchestrator") -> None:
        self._pool = pool
        sqls = {"insert": _INSERT, "get": _GET, "by_runs": _BY_RUNS}
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def close(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        run_id: uuid.UUID,
        status: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> tuple[IncompleteClosure, bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                self._q["insert"], org_id, incomplete_id, run_id, status, retry_run_id
            )
            if row is not None:
                return _closure(row), True
            existing = await conn.fetchrow(self._q["get"], org_id, incomplete_id)
        assert existing is not None  # the conflicting row cannot vanish: closures are final
        return _closure(existing), False

    async def closures(
        self, org_id: uuid.UUID, run_ids: list[uuid.UUID]
    ) -> dict[str, IncompleteClosure]:
        if not run_ids:
            return {}
        rows = await self._pool.fetch(self._q["by_runs"], org_id, run_ids)
        return {row["incomplete_id"]: _closure(row) for row in rows}
