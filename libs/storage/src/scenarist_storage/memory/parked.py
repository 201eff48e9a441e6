"""In-memory ParkedRunStore: the queues of inactive scenarios, with the Postgres store's
semantics (bounded per scenario, arrival order, re-parking moves an entry to the end)."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Sequence

from scenarist_storage.memory._clock import Clock, utc_now
from scenarist_storage.schedule_models import ParkedRun


class MemoryParkedRunStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._rows: dict[uuid.UUID, ParkedRun] = {}
        self._seq = itertools.count(1)

    async def park(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        run_id: uuid.UUID,
        request: bytes,
        *,
        limit: int,
    ) -> bool:
        existing = self._rows.get(run_id)
        if existing is not None:
            self._rows[run_id] = dataclasses.replace(existing, seq=next(self._seq))
            return True
        if await self.count(org_id, scenario_id) >= limit:
            return False
        self._rows[run_id] = ParkedRun(
            next(self._seq), run_id, org_id, scenario_id, bytes(request), self._clock()
        )
        return True

    async def parked(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, *, after_seq: int = 0, limit: int = 100
    ) -> list[ParkedRun]:
        found = sorted(
            (
                p
                for p in self._rows.values()
                if p.org_id == org_id and p.scenario_id == scenario_id and p.seq > after_seq
            ),
            key=lambda p: p.seq,
        )
        return found[:limit]

    async def release(self, released: Sequence[ParkedRun]) -> int:
        removed = 0
        for entry in released:
            current = self._rows.get(entry.run_id)
            if current is not None and current.seq == entry.seq:
                del self._rows[entry.run_id]
                removed += 1
        return removed

    async def count(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> int:
        return sum(
            1 for p in self._rows.values() if p.org_id == org_id and p.scenario_id == scenario_id
        )
