"""Postgres ParkedRunStore: the queues of inactive scenarios in the orchestrator schema."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence

from scenarist_storage.postgres import Pool, Record, qualify
from scenarist_storage.schedule_models import ParkedRun

_COLUMNS = "seq, run_id, org_id, scenario_id, request, parked_at"
# One-key advisory locks live apart from the two-key ones migrations take.
_LOCK = "SELECT pg_advisory_xact_lock($1)"
_BUMP = "UPDATE {s}.parked_runs SET seq = nextval(pg_get_serial_sequence('{s}.parked_runs', 'seq'))"
_BUMP += " WHERE run_id = $1 RETURNING seq"
_COUNT = "SELECT count(*) FROM {s}.parked_runs WHERE org_id = $1 AND scenario_id = $2"
_INSERT = """
INSERT INTO {s}.parked_runs (run_id, org_id, scenario_id, request) VALUES ($1, $2, $3, $4)
"""
_LIST = """
SELECT {cols} FROM {s}.parked_runs
WHERE org_id = $1 AND scenario_id = $2 AND seq > $3
ORDER BY seq
LIMIT $4
"""
_RELEASE = """
DELETE FROM {s}.parked_runs p
USING unnest($1::uuid[], $2::bigint[]) AS r(run_id, seq)
WHERE p.run_id = r.run_id AND p.seq = r.seq
"""


def _lock_key(scenario_id: uuid.UUID) -> int:
    return zlib.crc32(b"parked:" + scenario_id.bytes)


class PgParkedRunStore:
    def __init__(self, pool: Pool, schema: str = "orchestrator") -> None:
        self._pool = pool
        sqls = {"bump": _BUMP, "count": _COUNT, "insert": _INSERT, "list": _LIST}
        sqls["release"] = _RELEASE
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def park(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        run_id: uuid.UUID,
        request: bytes,
        *,
        limit: int,
    ) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            # Serializes parkers of one scenario, so two partitions cannot both take the last slot.
            await conn.execute(_LOCK, _lock_key(scenario_id))
            if await conn.fetchrow(self._q["bump"], run_id) is not None:
                return True
            if int(await conn.fetchval(self._q["count"], org_id, scenario_id)) >= limit:
                return False
            await conn.execute(self._q["insert"], run_id, org_id, scenario_id, request)
            return True

    async def parked(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, *, after_seq: int = 0, limit: int = 100
    ) -> list[ParkedRun]:
        rows = await self._pool.fetch(self._q["list"], org_id, scenario_id, after_seq, limit)
        return [_parked(r) for r in rows]

    async def release(self, released: Sequence[ParkedRun]) -> int:
        if not released:
            return 0
        status = await self._pool.execute(
            self._q["release"], [p.run_id for p in released], [p.seq for p in released]
        )
        return int(status.split()[-1])

    async def count(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> int:
        return int(await self._pool.fetchval(self._q["count"], org_id, scenario_id))


def _parked(row: Record) -> ParkedRun:
    return ParkedRun(
        seq=int(row["seq"]),
        run_id=row["run_id"],
        org_id=row["org_id"],
        scenario_id=row["scenario_id"],
        request=bytes(row["request"]),
        parked_at=row["parked_at"],
    )
