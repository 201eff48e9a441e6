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


async def test_run_summaries_batch_upsert_applies_each_rule(stores: Stores) -> None:
    newer, fresh, foreign = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await stores.logs.upsert_run_summary(_summary(newer, "failed", 5))
    await stores.logs.upsert_run_summary(_summary(foreign, "running", 1))
    later_start = dataclasses.replace(_summary(fresh, "succeeded", 4), started_at=T0 + timedelta(9))
    batch = [
        _summary(newer, "running", 2),  # older than what is stored: skipped
        later_start,
        dataclasses.replace(_summary(foreign, "succeeded", 3), org_id=OTHER),  # other org
    ]
    assert await stores.logs.upsert_run_summaries(batch) == 1
    assert await stores.logs.get_run_summary(ORG, newer) == _summary(newer, "failed", 5)
    assert await stores.logs.get_run_summary(ORG, fresh) == later_start
    got = await stores.logs.get_run_summary(ORG, foreign)
    assert got is not None and got.status == "running"
    assert await stores.logs.upsert_run_summaries([]) == 0
    with pytest.raises(ValueError, match="more than once"):
        await stores.logs.upsert_run_summaries([later_start, later_start])


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


async def test_run_steps_page_in_order(stores: Stores) -> None:
    run_id = uuid.uuid4()
    await stores.logs.append_steps([_step(run_id, f"{n}/0", at=n % 3) for n in range(7)])
    expected = [(s.task_id, s.attempt) for s in await stores.logs.get_run_steps(ORG, run_id)]
    seen: list[tuple[str, int]] = []
    token = None
    while True:
        page = await stores.logs.list_run_steps(ORG, run_id, page_size=3, page_token=token)
        seen += [(s.task_id, s.attempt) for s in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == expected and len(seen) == 7
    assert (await stores.logs.list_run_steps(OTHER, run_id)).items == []
    assert await stores.logs.has_run(ORG, run_id)
    assert not await stores.logs.has_run(OTHER, run_id)


async def test_summaries_list_newest_first_by_scenario(stores: Stores) -> None:
    scenario = uuid.uuid4()
    runs = [uuid.uuid4() for _ in range(4)]
    for n, run_id in enumerate(runs):
        summary = dataclasses.replace(
            _summary(run_id, "succeeded", n),
            started_at=T0 + timedelta(minutes=n),
            scenario_id=scenario if n != 1 else uuid.uuid4(),
            scenario_version=n,
        )
        await stores.logs.upsert_run_summary(summary)
    first = await stores.logs.list_run_summaries(ORG, scenario_id=scenario, page_size=2)
    assert [s.run_id for s in first.items] == [runs[3], runs[2]]
    assert first.items[0].scenario_version == 3
    assert first.next_page_token is not None
    rest = await stores.logs.list_run_summaries(
        ORG, scenario_id=scenario, page_size=2, page_token=first.next_page_token
    )
    assert [s.run_id for s in rest.items] == [runs[0]] and rest.next_page_token is None
    assert len((await stores.logs.list_run_summaries(ORG)).items) == 4
    assert (await stores.logs.list_run_summaries(OTHER)).items == []
    assert await stores.logs.has_run(ORG, runs[0])


async def test_summary_keeps_the_earliest_start(stores: Stores) -> None:
    run_id = uuid.uuid4()
    await stores.logs.upsert_run_summary(_summary(run_id, "running", 1))
    later = dataclasses.replace(_summary(run_id, "succeeded", 5), started_at=T0 + timedelta(9))
    assert await stores.logs.upsert_run_summary(later)
    got = await stores.logs.get_run_summary(ORG, run_id)
    assert got is not None and got.started_at == T0 and got.status == "succeeded"


async def test_delete_runs_is_scoped_and_spares_live_runs(stores: Stores) -> None:
    done, live, foreign = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await stores.logs.upsert_run_summary(_summary(done, "succeeded", 1))
    await stores.logs.upsert_run_summary(_summary(live, "running", 1))
    await stores.logs.upsert_run_summary(
        dataclasses.replace(_summary(foreign, "succeeded", 1), org_id=OTHER)
    )
    await stores.logs.append_steps([_step(done, "1/0"), _step(done, "2/0"), _step(live, "1/0")])
    cutoff = T0 + timedelta(hours=1)
    result = await stores.logs.delete_runs(ORG, finished_before=cutoff, scenario_id=uuid.uuid4())
    assert result == RetentionResult(steps=0, runs=0)
    assert await stores.logs.delete_runs(ORG, finished_before=cutoff) == RetentionResult(2, 1)
    assert await stores.logs.get_run_summary(ORG, done) is None
    assert await stores.logs.get_run_summary(ORG, live) is not None
    assert await stores.logs.get_run_summary(OTHER, foreign) is not None
    assert len(await stores.logs.get_run_steps(ORG, live)) == 1
