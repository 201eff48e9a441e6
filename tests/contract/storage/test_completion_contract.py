"""IncompleteRetryStore: memory and Postgres behave alike (discovery of finished runs holding
parked bundles, first schedule wins, due claims taken once under a lease and by one claimer at a
time, lineage by retry run, follow-up of finished retry runs)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scenarist_storage.completion_models import (
    RETRY_MANUAL,
    RETRY_RETRYING,
    RETRY_WAITING,
    IncompleteRetryStore,
    RetrySchedule,
)
from scenarist_storage.memory.completion import MemoryIncompleteRetryStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.models import StateWrite
from scenarist_storage.pg.completion import PgIncompleteRetryStore
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
SCENARIO = uuid.UUID("00000000-0000-4000-8000-0000000000d2")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _store(stores: Stores) -> IncompleteRetryStore:
    if stores.pool is None:
        assert isinstance(stores.runs, MemoryRunStore)
        return MemoryIncompleteRetryStore(stores.runs)
    return PgIncompleteRetryStore(stores.pool, stores.prefix + "orchestrator")


async def _finished(
    stores: Stores, status: str, items: list[dict[str, Any]], run_id: uuid.UUID | None = None
) -> uuid.UUID:
    run_id = run_id or uuid.uuid4()
    await stores.runs.create_run(
        ORG, SCENARIO, 1, run_id, idempotency_key=None, trigger={}, source="api"
    )
    epoch = await stores.runs.next_owner_epoch()
    state = {"incomplete": items, "finished_at": 1_767_225_600.5}
    await stores.runs.save_states([StateWrite(ORG, run_id, epoch, state, status, 1)])
    return run_id


def _schedule(
    run_id: uuid.UUID, number: int, due: datetime | None, state: str = RETRY_WAITING
) -> RetrySchedule:
    return RetrySchedule(
        org_id=ORG,
        incomplete_id=f"{run_id}/t{number}",
        run_id=run_id,
        scenario_id=SCENARIO,
        attempt=0,
        plan_minutes=(1.0, 1.5),
        first_parked_at=T0,
        due_at=due,
        state=state,
    )


async def test_discovery_finds_finished_runs_with_parked_bundles_once(stores: Stores) -> None:
    store = _store(stores)
    parked = await _finished(stores, "warning", [{"id": "a"}, {"id": "b"}])
    await _finished(stores, "success", [])
    await _finished(stores, "error", [])
    [found] = await store.discover(None, 10)
    assert found.run_id == parked and found.org_id == ORG and found.scenario_id == SCENARIO
    assert [i["id"] for i in found.items] == ["a", "b"] and found.finished_at == 1_767_225_600.5
    assert await store.discover(found.updated_at + timedelta(hours=1), 10) == []
    assert await store.schedule([_schedule(parked, 1, T0), _schedule(parked, 2, None)]) == 2
    assert await store.discover(None, 10) == []


async def test_the_first_schedule_wins(stores: Stores) -> None:
    store = _store(stores)
    run_id = await _finished(stores, "warning", [{"id": "a"}])
    first = _schedule(run_id, 1, T0)
    assert await store.schedule([first]) == 1
    later = _schedule(run_id, 1, None, RETRY_MANUAL)
    assert await store.schedule([later]) == 0
    found = await store.get_many(ORG, [first.incomplete_id, "missing"])
    assert found == {first.incomplete_id: first}
    assert await store.get_many(uuid.uuid4(), [first.incomplete_id]) == {}


async def test_a_due_schedule_is_claimed_once_per_lease(stores: Stores) -> None:
    store = _store(stores)
    run_id = await _finished(stores, "warning", [{"id": "a"}])
    await store.schedule(
        [
            _schedule(run_id, 1, T0),
            _schedule(run_id, 2, T0 + timedelta(minutes=5)),
            _schedule(run_id, 3, None, RETRY_MANUAL),
        ]
    )
    [claimed] = await store.claim_due(T0 + timedelta(minutes=1), 60, 10)
    assert claimed.incomplete_id == f"{run_id}/t1" and claimed.retry_run_id is not None
    assert await store.claim_due(T0 + timedelta(minutes=1, seconds=30), 60, 10) == []
    # The lease ended without an outcome: claimed again, with the same retry run id.
    again = await store.claim_due(T0 + timedelta(minutes=3), 60, 10)
    assert [(c.incomplete_id, c.retry_run_id) for c in again] == [
        (claimed.incomplete_id, claimed.retry_run_id)
    ]
    assert await store.set_state(ORG, claimed.incomplete_id, RETRY_RETRYING)
    assert not await store.set_state(ORG, "nope", RETRY_RETRYING)
    later = await store.claim_due(T0 + timedelta(minutes=10), 60, 10)
    assert [c.incomplete_id for c in later] == [f"{run_id}/t2"]


async def test_concurrent_claims_take_disjoint_schedules(stores: Stores) -> None:
    store = _store(stores)
    run_id = await _finished(stores, "warning", [{"id": "a"}])
    await store.schedule([_schedule(run_id, n, T0) for n in range(6)])
    claims = await asyncio.gather(*(store.claim_due(T0, 60, 2) for _ in range(4)))
    ids = [c.incomplete_id for claim in claims for c in claim]
    assert sorted(ids) == sorted(f"{run_id}/t{n}" for n in range(6))


async def test_lineage_and_follow_up_of_retry_runs(stores: Stores) -> None:
    store = _store(stores)
    run_id = await _finished(stores, "warning", [{"id": "a"}])
    schedule = _schedule(run_id, 1, T0)
    await store.schedule([schedule])
    [claimed] = await store.claim_due(T0, 60, 10)
    assert claimed.retry_run_id is not None
    assert await store.parent(ORG, claimed.retry_run_id) == claimed
    assert await store.parent(uuid.uuid4(), claimed.retry_run_id) is None
    await store.set_state(ORG, schedule.incomplete_id, RETRY_RETRYING, claimed.retry_run_id)
    await stores.runs.create_run(
        ORG, SCENARIO, 1, claimed.retry_run_id, idempotency_key=None, trigger={}, source="manual"
    )
    assert await store.finished_retries(10) == []  # queued: not finished yet
    await _finished(stores, "success", [], run_id=claimed.retry_run_id)
    [finished] = await store.finished_retries(10)
    assert finished.run_status == "success"
    assert finished.schedule.incomplete_id == schedule.incomplete_id
    assert finished.schedule.state == RETRY_RETRYING and finished.schedule.claimed_until is None
