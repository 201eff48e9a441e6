from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from scenarist_storage import RetentionResult, RunSummary, StepRecord
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000d2")
T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _step(
    run_id: uuid.UUID, task: str, attempt: int = 0, *, at: int = 0, **data: object
) -> StepRecord:
    started = T0 + timedelta(seconds=at)
    return StepRecord(
        org_id=ORG,
        run_id=run_id,
        task_id=task,
        attempt=attempt,
        module_id=task.split("/", maxsplit=1)[0],
        status="succeeded",
        started_at=started,
        finished_at=started + timedelta(milliseconds=5),
        data={"input": {"n": at}, "output": [{"ok": True}], **data},
    )


def _summary(run_id: uuid.UUID, status: str, at: int) -> RunSummary:
    return RunSummary(
        org_id=ORG,
        run_id=run_id,
        scenario_id=uuid.UUID(int=7),
        status=status,
        operations=at,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=at) if status != "running" else None,
        updated_at=T0 + timedelta(seconds=at),
        error={"msg": "x"} if status == "failed" else None,
    )


async def test_steps_are_idempotent_and_ordered(stores: Stores) -> None:
    run_id = uuid.uuid4()
    batch = [_step(run_id, "2/0", at=2), _step(run_id, "1/0", at=1), _step(run_id, "1/0", 1, at=3)]
    assert await stores.logs.append_steps(batch) == 3
    redelivered = [_step(run_id, "1/0", at=1, extra="changed"), _step(run_id, "3/0", at=2)]
    assert await stores.logs.append_steps(redelivered) == 1
    steps = await stores.logs.get_run_steps(ORG, run_id)
    assert [(s.task_id, s.attempt) for s in steps] == [
        ("1/0", 0),
        ("2/0", 0),
        ("3/0", 0),
        ("1/0", 1),
    ]
    assert steps[0] == batch[1]  # first write wins, every field round-trips
    assert await stores.logs.get_run_steps(OTHER, run_id) == []
    assert await stores.logs.append_steps([]) == 0


async def test_run_summary_keeps_the_newest_event(stores: Stores) -> None:
    run_id = uuid.uuid4()
    assert await stores.logs.upsert_run_summary(_summary(run_id, "running", 1))
    assert await stores.logs.upsert_run_summary(_summary(run_id, "failed", 5))
    assert not await stores.logs.upsert_run_summary(_summary(run_id, "running", 2))  # late event
    assert await stores.logs.upsert_run_summary(_summary(run_id, "failed", 5))  # replay: same
    got = await stores.logs.get_run_summary(ORG, run_id)
    assert got == _summary(run_id, "failed", 5)
    assert await stores.logs.get_run_summary(OTHER, run_id) is None
    foreign = _summary(run_id, "succeeded", 9)
    assert not await stores.logs.upsert_run_summary(dataclasses.replace(foreign, org_id=OTHER))
    assert await stores.logs.get_run_summary(ORG, run_id) == _summary(run_id, "failed", 5)


async def test_retention_deletes_only_older_history(stores: Stores) -> None:
    old_run, new_run = uuid.uuid4(), uuid.uuid4()
    await stores.logs.append_steps(
        [_step(old_run, f"{i}/0", at=i) for i in range(7)] + [_step(new_run, "1/0", at=100)]
    )
    await stores.logs.upsert_run_summary(_summary(old_run, "succeeded", 6))
    await stores.logs.upsert_run_summary(_summary(new_run, "running", 100))
    cutoff = T0 + timedelta(seconds=50)
    assert await stores.logs.delete_older_than(cutoff) == RetentionResult(steps=7, runs=1)
    assert await stores.logs.get_run_steps(ORG, old_run) == []
    assert await stores.logs.get_run_summary(ORG, old_run) is None
    assert len(await stores.logs.get_run_steps(ORG, new_run)) == 1
    assert await stores.logs.get_run_summary(ORG, new_run) is not None
    assert await stores.logs.delete_older_than(cutoff) == RetentionResult(steps=0, runs=0)
