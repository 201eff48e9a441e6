"""In-memory IncompleteStore with the Postgres store's first-closure-wins semantics."""

from __future__ import annotations

import uuid

from scenarist_storage.incomplete_models import IncompleteClosure
from scenarist_storage.memory._clock import Clock, utc_now


class MemoryIncompleteStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._rows: dict[tuple[uuid.UUID, str], IncompleteClosure] = {}

    async def close(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        run_id: uuid.UUID,
        status: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> tuple[IncompleteClosure, bool]:
        key = (org_id, incomplete_id)
        existing = self._rows.get(key)
        if existing is not None:
            return existing, False
        closure = IncompleteClosure(
            org_id, incomplete_id, run_id, status, retry_run_id, self._clock()
        )
        self._rows[key] = closure
        return closure, True

    async def closures(
        self, org_id: uuid.UUID, run_ids: list[uuid.UUID]
    ) -> dict[str, IncompleteClosure]:
        wanted = set(run_ids)
        return {
            c.incomplete_id: c
            for (org, _), c in self._rows.items()
            if org == org_id and c.run_id in wanted
        }
