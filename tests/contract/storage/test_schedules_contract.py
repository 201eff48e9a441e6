"""ScheduleStore and ParkedRunStore contract: memory and Postgres behave alike (org scoping,
paging, claims that skip held rows and commit only on success, the run budget, pending
messages, bounded parking in arrival order)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from conftest import drop_prefix, migrated_prefix
from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.memory.parked import MemoryParkedRunStore
from scenarist_storage.memory.schedules import MemoryScheduleStore
from scenarist_storage.pg.parked import PgParkedRunStore
from scenarist_storage.pg.schedules import PgScheduleStore
from scenarist_storage.ports import ParkedRunStore, ScheduleStore
from scenarist_storage.postgres import create_pool
from scenarist_storage.schedule_models import (
    FireState,
    NewSchedule,
    PendingFire,
    ScheduleDefinition,
)

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Pair:
    schedules: ScheduleStore
    parked: ParkedRunStore


@pytest.fixture(
    params=[pytest.param("memory"), pytest.param("postgres", marks=pytest.mark.integration)]
)
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    if request.param == "memory":
        yield Pair(MemoryScheduleStore(), MemoryParkedRunStore())
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    pool = await create_pool(dsn, min_size=2, max_size=4)
    prefix = await migrated_prefix(pool)
    try:
        yield Pair(
            PgScheduleStore(pool, prefix + "trigger"),
            PgParkedRunStore(pool, prefix + "orchestrator"),
        )
    finally:
        await drop_prefix(pool, prefix)
        await pool.close()


def _new(
    org: uuid.UUID = ORG, due: datetime | None = T0, scenario: uuid.UUID | None = None
) -> NewSchedule:
    definition = ScheduleDefinition(
        name="nightly",
        timing={"kind": "daily", "time": "02:30"},
        time_zone="Europe/Prague",
        start_at=T0 - timedelta(days=1),
        end_at=None,
        max_runs_per_minute=5,
        poll={"app": "a", "module": "m", "inputs": {"k": 1}},
    )
    return NewSchedule(uuid.uuid4(), org, scenario or uuid.uuid4(), definition, due)


async def test_create_get_list_and_org_scoping(pair: Pair) -> None:
    store = pair.schedules
    first = await store.create(_new())
    second = await store.create(_new(scenario=first.scenario_id))
    await store.create(_new(org=OTHER))
    assert first.definition == _new().definition
    assert first.state == FireState(next_due_at=T0, attempt_at=T0)
    assert await store.get(ORG, first.id) == first
    assert await store.get(OTHER, first.id) is None
    with pytest.raises(ConflictError):
        await store.create(NewSchedule(first.id, ORG, uuid.uuid4(), first.definition, T0))
    page = await store.list(ORG, page_size=1)
    assert [r.id for r in page.items] == [second.id] and page.next_page_token
    rest = await store.list(ORG, page_size=1, page_token=page.next_page_token)
    assert [r.id for r in rest.items] == [first.id] and rest.next_page_token is None
    only = await store.list(ORG, scenario_id=first.scenario_id)
    assert {r.id for r in only.items} == {first.id, second.id}


async def test_redefine_pause_and_delete(pair: Pair) -> None:
    store = pair.schedules
    record = await store.create(_new())
    changed = ScheduleDefinition(name="x", timing={"kind": "cron", "cron": "* * * * *"})
    later = T0 + timedelta(hours=1)
    updated = await store.redefine(ORG, record.id, changed, later)
    assert updated.definition == changed and updated.state.next_due_at == later
    assert updated.state.attempt_at == later
    paused = await store.set_paused(ORG, record.id, True, later)
    assert paused.paused
    with pytest.raises(NotFoundError):
        await store.set_paused(OTHER, record.id, False, later)
    with pytest.raises(NotFoundError):
        await store.redefine(OTHER, record.id, changed, later)
    with pytest.raises(NotFoundError):
        await store.delete(OTHER, record.id)
    await store.delete(ORG, record.id)
    assert await store.get(ORG, record.id) is None


async def test_claims_take_due_unpaused_rows_and_skip_held_ones(pair: Pair) -> None:
    store = pair.schedules
    due = await store.create(_new(due=T0))
    await store.create(_new(due=T0 + timedelta(minutes=5)))  # not yet
    await store.create(_new(due=None))  # finished
    paused = await store.create(_new(due=T0 - timedelta(minutes=1)))
    await store.set_paused(ORG, paused.id, True, paused.state.next_due_at)
    async with store.claim_due(T0, limit=10, pending_before=T0) as held:
        assert [s.id for s in held.schedules] == [due.id]
        async with store.claim_due(T0, limit=10, pending_before=T0) as other:
            assert other.schedules == []  # skipped, not waited for


async def test_claim_writes_commit_on_success_only(pair: Pair) -> None:
    store = pair.schedules
    record = await store.create(_new(due=T0))
    pending = PendingFire("schedule:k", b"\x01\x02", T0)
    state = FireState(
        next_due_at=T0 + timedelta(days=1),
        attempt_at=T0 + timedelta(days=1),
        cursor="c1",
        seen=("a", "b"),
        pending=pending,
        last_fired_at=T0,
        last_error="",
    )
    with pytest.raises(RuntimeError):
        async with store.claim_due(T0, limit=1, pending_before=T0) as claim:
            await claim.save(record.id, state)
            raise RuntimeError("crash before commit")
    unchanged = await store.get(ORG, record.id)
    assert unchanged is not None and unchanged.state == record.state
    async with store.claim_due(T0, limit=1, pending_before=T0) as claim:
        await claim.save(record.id, state)
    saved = await store.get(ORG, record.id)
    assert saved is not None and saved.state == state
    # A pending row is claimable again only once it is older than `pending_before`.
    async with store.claim_due(
        T0 + timedelta(days=2), limit=5, pending_before=T0 - timedelta(1)
    ) as c:
        assert c.schedules == []
    async with store.claim_due(T0, limit=5, pending_before=T0) as c:
        assert [s.state.pending for s in c.schedules] == [pending]
    assert not await store.clear_pending(record.id, "schedule:other")
    assert await store.clear_pending(record.id, "schedule:k")
    cleared = await store.get(ORG, record.id)
    assert cleared is not None and cleared.state.pending is None and cleared.state.cursor == "c1"


async def test_run_budget_per_scenario_and_minute(pair: Pair) -> None:
    store = pair.schedules
    await store.create(_new(due=T0))
    scenario, window = uuid.uuid4(), T0.replace(second=0)
    async with store.claim_due(T0, limit=1, pending_before=T0) as claim:
        assert await claim.take_budget(ORG, scenario, window, 2)
        assert await claim.take_budget(ORG, scenario, window, 2)
        assert not await claim.take_budget(ORG, scenario, window, 2)
        assert await claim.take_budget(ORG, uuid.uuid4(), window, 2)
    async with store.claim_due(T0, limit=1, pending_before=T0) as claim:
        assert not await claim.take_budget(ORG, scenario, window, 2)  # committed
        assert await claim.take_budget(ORG, scenario, window + timedelta(minutes=1), 2)


async def test_parking_is_bounded_and_ordered(pair: Pair) -> None:
    parked = pair.parked
    scenario = uuid.uuid4()
    runs = [uuid.uuid4() for _ in range(3)]
    for n, run in enumerate(runs[:2]):
        assert await parked.park(ORG, scenario, run, f"r{n}".encode(), limit=2)
    assert not await parked.park(ORG, scenario, runs[2], b"r2", limit=2)
    assert await parked.park(ORG, uuid.uuid4(), runs[2], b"other scenario", limit=2)
    assert await parked.count(ORG, scenario) == 2
    listed = await parked.parked(ORG, scenario)
    assert [(p.run_id, p.request) for p in listed] == [(runs[0], b"r0"), (runs[1], b"r1")]
    assert await parked.parked(OTHER, scenario) == []
    # Parked again (deactivated before it started): it moves to the end, and releasing the
    # entry read before leaves it parked.
    assert await parked.park(ORG, scenario, runs[0], b"r0", limit=2)
    assert await parked.release(listed) == 1
    [left] = await parked.parked(ORG, scenario)
    assert left.run_id == runs[0]
    assert await parked.parked(ORG, scenario, after_seq=left.seq) == []


async def test_parking_races_cannot_exceed_the_limit(pair: Pair) -> None:
    scenario = uuid.uuid4()
    results = await asyncio.gather(
        *(pair.parked.park(ORG, scenario, uuid.uuid4(), b"r", limit=3) for _ in range(8))
    )
    assert sum(results) == 3 and await pair.parked.count(ORG, scenario) == 3
