from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from scenarist_storage.log_paging import check_one_per_run, step_key, summary_key
from scenarist_storage.memory._clock import clone
from scenarist_storage.models import Page, RetentionResult, RunSummary, StepRecord
from scenarist_storage.paging import check_page_size, decode_token, encode_token


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
        if current is not None and current.started_at < summary.started_at:
            # A later event only knows when it happened; the run started at the earliest one.
            summary = dataclasses.replace(summary, started_at=current.started_at)
        self._summaries[summary.run_id] = clone(summary)
        return True

    async def upsert_run_summaries(self, batch: Sequence[RunSummary]) -> int:
        check_one_per_run(batch)
        return sum([await self.upsert_run_summary(summary) for summary in batch])

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

    async def list_run_steps(
        self,
        org_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[StepRecord]:
        check_page_size(page_size)
        steps = await self.get_run_steps(org_id, run_id)
        if page_token:
            after = step_key(decode_token("steps", page_token, 3))
            steps = [s for s in steps if (s.started_at, s.task_id, s.attempt) > after]
        items = steps[:page_size]
        token = None
        if len(steps) > page_size:
            last = items[-1]
            token = encode_token("steps", [last.started_at.isoformat(), last.task_id, last.attempt])
        return Page(items, token)

    async def has_run(self, org_id: uuid.UUID, run_id: uuid.UUID) -> bool:
        summary = self._summaries.get(run_id)
        if summary is not None and summary.org_id == org_id:
            return True
        return any(s.run_id == run_id and s.org_id == org_id for s in self._steps.values())

    async def list_run_summaries(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[RunSummary]:
        check_page_size(page_size)
        found = [
            s
            for s in self._summaries.values()
            if s.org_id == org_id and (scenario_id is None or s.scenario_id == scenario_id)
        ]
        found.sort(key=lambda s: (s.started_at, s.run_id), reverse=True)
        if page_token:
            before = summary_key(decode_token("run_summaries", page_token, 2))
            found = [s for s in found if (s.started_at, s.run_id) < before]
        items = clone(found[:page_size])
        token = None
        if len(found) > page_size:
            last = items[-1]
            token = encode_token("run_summaries", [last.started_at.isoformat(), str(last.run_id)])
        return Page(items, token)

    async def delete_runs(
        self, org_id: uuid.UUID, *, finished_before: datetime, scenario_id: uuid.UUID | None = None
    ) -> RetentionResult:
        gone = {
            s.run_id
            for s in self._summaries.values()
            if s.org_id == org_id
            and s.finished_at is not None
            and s.finished_at < finished_before
            and (scenario_id is None or s.scenario_id == scenario_id)
        }
        steps = [k for k, s in self._steps.items() if s.run_id in gone and s.org_id == org_id]
        for run_id in gone:
            del self._summaries[run_id]
        for key in steps:
            del self._steps[key]
        return RetentionResult(steps=len(steps), runs=len(gone))
