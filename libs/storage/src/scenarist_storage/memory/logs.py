from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from scenarist_storage.memory._clock import clone
from scenarist_storage.models import RetentionResult, RunSummary, StepRecord


class MemoryLogStore:
    def __init__(self) -> None:
        self._steps: dict[tuple[uuid.UUID, str, int], StepRecord] = {}
        self._summaries: dict[uuid.UUID, RunSummary] = {}

    async def append_steps(self, batch: Sequence[StepRecord]) -> int:
        added = 0
        for step in batch:
            key = (step.run_id, step.task_id, step.attempt)
            if key not in self._steps:
                self._steps[key] = clone(step)
                added += 1
        return added

    async def get_run_steps(self, org_id: uuid.UUID, run_id: uuid.UUID) -> list[StepRecord]:
        found = [s for s in self._steps.values() if s.run_id == run_id and s.org_id == org_id]
        found.sort(key=lambda s: (s.started_at, s.task_id, s.attempt))
        return clone(found)

    async def upsert_run_summary(self, summary: RunSummary) -> bool:
        current = self._summaries.get(summary.run_id)
        if current is not None and (
            current.org_id != summary.org_id or current.updated_at > summary.updated_at
        ):
            return False
        self._summaries[summary.run_id] = clone(summary)
        return True

    async def get_run_summary(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunSummary | None:
        found = self._summaries.get(run_id)
        return clone(found) if found is not None and found.org_id == org_id else None

    async def delete_older_than(self, ts: datetime) -> RetentionResult:
        old_steps = [k for k, s in self._steps.items() if s.started_at < ts]
        old_runs = [k for k, s in self._summaries.items() if s.updated_at < ts]
        for key in old_steps:
            del self._steps[key]
        for run_id in old_runs:
            del self._summaries[run_id]
        return RetentionResult(steps=len(old_steps), runs=len(old_runs))
