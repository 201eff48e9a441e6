"""A state write that creates its run: the new run's row and first state in one save."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from scenarist_storage import StateWrite
from scenarist_storage.claims import ClaimRef
from scenarist_storage.models import NewRun, OutboxMessage
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
SCENARIO = uuid.uuid4()


def _new(run_id: uuid.UUID, key: str | None = None, org: uuid.UUID = ORG) -> NewRun:
    return NewRun(org, SCENARIO, 3, run_id, key, {"order": 1}, "webhook")


def _creating(
    new: NewRun, epoch: int = 7, status: str = "running", entries: dict[str, Any] | None = None
) -> StateWrite:
    state = {"core": epoch}
    return StateWrite(new.org_id, new.run_id, epoch, state, status, 2, entries or {}, create=new)


def _message(run_id: uuid.UUID) -> OutboxMessage:
    return OutboxMessage("runs.tasks", run_id.bytes, b"task", run_id=run_id)


async def test_a_creating_write_inserts_the_run_with_its_state(stores: Stores) -> None:
    new = _new(uuid.uuid4(), key="k-1")
    saved = await stores.runs.save_states(
        [_creating(new, entries={"t:1": [1, 2]})], [_message(new.run_id)]
    )
    assert saved.accepted == (new.run_id,) and saved.rejected == () and saved.outbox_written == 1
    run = await stores.runs.get(ORG, new.run_id)
    assert run is not None
    assert (run.scenario_id, run.version, run.idempotency_key, run.source) == (
        SCENARIO,
        3,
        "k-1",
        "webhook",
    )
    assert (run.trigger, run.state, run.status, run.operations, run.owner_epoch) == (
        {"order": 1},
        {"core": 7},
        "running",
        2,
        7,
    )
    assert await stores.runs.state_entries(ORG, new.run_id) == {"t:1": [1, 2]}
    # Later writes update it as they would any run, fenced by the epoch it was created with.
    later = StateWrite(ORG, new.run_id, 6, {}, "succeeded", 3)
    assert (await stores.runs.save_states([later])).rejected == (new.run_id,)


async def test_a_creating_write_keeps_the_trigger_claim(stores: Stores) -> None:
    claim = ClaimRef("claims/abc", "0" * 64, 10_000_000, "application/json")
    new = NewRun(ORG, SCENARIO, 1, uuid.uuid4(), None, {}, "webhook", claim)
    await stores.runs.save_states([_creating(new)])
    run = await stores.runs.get(ORG, new.run_id)
    assert run is not None and run.trigger_claim == claim and run.trigger == {}


async def test_a_creating_write_keeps_when_the_run_was_created(stores: Stores) -> None:
    started = datetime(2026, 11, 27, 7, 49, 26, 994053, tzinfo=UTC)
    new = dataclasses.replace(_new(uuid.uuid4()), created_at=started)
    await stores.runs.save_states([_creating(new)])
    run = await stores.runs.get(ORG, new.run_id)
    assert run is not None and run.created_at == started and run.updated_at > started
    plain = _new(uuid.uuid4())  # none given: when it was inserted
    await stores.runs.save_states([_creating(plain)])
    inserted = await stores.runs.get(ORG, plain.run_id)
    assert inserted is not None and inserted.created_at > started


async def test_an_existing_run_id_rejects_the_write_and_is_left_alone(stores: Stores) -> None:
    existing, _ = await stores.runs.create_run(
        ORG, SCENARIO, 1, uuid.uuid4(), idempotency_key=None, trigger={"a": 1}, source="api"
    )
    again = _new(existing.id)
    saved = await stores.runs.save_states(
        [_creating(again, entries={"t:1": 1})], [_message(existing.id)]
    )
    assert saved.accepted == () and saved.rejected == (existing.id,)
    assert saved.outbox_written == 0
    run = await stores.runs.get(ORG, existing.id)
    assert run is not None
    assert (run.status, run.state, run.trigger, run.version) == ("queued", {}, {"a": 1}, 1)
    assert await stores.runs.state_entries(ORG, existing.id) == {}


async def test_a_run_id_of_another_organization_is_not_taken_over(stores: Stores) -> None:
    theirs = _new(uuid.uuid4(), org=OTHER)
    assert (await stores.runs.save_states([_creating(theirs)])).accepted == (theirs.run_id,)
    mine = _new(theirs.run_id)
    assert (await stores.runs.save_states([_creating(mine)])).rejected == (theirs.run_id,)
    assert await stores.runs.get(ORG, theirs.run_id) is None


async def test_a_taken_idempotency_key_rejects_only_that_write(stores: Stores) -> None:
    first = _new(uuid.uuid4(), key="once")
    await stores.runs.save_states([_creating(first)])
    duplicate, other = _new(uuid.uuid4(), key="once"), _new(uuid.uuid4())
    saved = await stores.runs.save_states(
        [_creating(duplicate), _creating(other)],
        [_message(duplicate.run_id), _message(other.run_id)],
    )
    assert saved.accepted == (other.run_id,) and saved.rejected == (duplicate.run_id,)
    assert saved.outbox_written == 1
    assert await stores.runs.get(ORG, duplicate.run_id) is None
    found = await stores.runs.create_runs([duplicate])
    assert found[0][0].id == first.run_id and found[0][1] is False


async def test_two_creating_writes_with_one_key_in_a_batch_create_one_run(stores: Stores) -> None:
    a, b = _new(uuid.uuid4(), key="same"), _new(uuid.uuid4(), key="same")
    saved = await stores.runs.save_states([_creating(a), _creating(b)])
    assert len(saved.accepted) == 1 and len(saved.rejected) == 1
    assert {*saved.accepted, *saved.rejected} == {a.run_id, b.run_id}


async def test_creating_and_updating_writes_share_a_batch(stores: Stores) -> None:
    existing, _ = await stores.runs.create_run(
        ORG, SCENARIO, 1, uuid.uuid4(), idempotency_key=None, trigger={}, source="api"
    )
    new = _new(uuid.uuid4())
    update = StateWrite(ORG, existing.id, 7, {"core": "u"}, "succeeded", 1)
    saved = await stores.runs.save_states([update, _creating(new, status="succeeded")])
    assert set(saved.accepted) == {existing.id, new.run_id}
    for run_id in (existing.id, new.run_id):
        run = await stores.runs.get(ORG, run_id)
        assert run is not None and run.status == "succeeded"


async def test_a_write_creates_its_own_run_only(stores: Stores) -> None:
    new = _new(uuid.uuid4())
    wrong = StateWrite(ORG, uuid.uuid4(), 1, {}, "running", 0, create=new)
    with pytest.raises(ValueError, match="creates its own run"):
        await stores.runs.save_states([wrong])
    assert await stores.runs.get(ORG, new.run_id) is None
