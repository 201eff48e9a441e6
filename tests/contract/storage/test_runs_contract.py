from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from scenarist_storage import ConflictError, InvalidPageTokenError, NewRun, StateWrite
from scenarist_storage.claims import ClaimRef, ref_for
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
SCENARIO = uuid.uuid4()


async def _run(
    stores: Stores,
    key: str | None = "k1",
    *,
    scenario: uuid.UUID = SCENARIO,
    org: uuid.UUID = ORG,
    run_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, bool]:
    record, created = await stores.runs.create_run(
        org,
        scenario,
        3,
        run_id or uuid.uuid4(),
        idempotency_key=key,
        trigger={"body": {"email": "a@b.c"}},
        source="webhook",
    )
    return record.id, created


async def test_concurrent_deliveries_of_one_key_create_one_run(stores: Stores) -> None:
    # Writers racing on one idempotency key (a redelivery during a rebalance): whichever
    # commits first creates the run, every other one resolves to it.
    results = await asyncio.gather(*(_run(stores, "raced") for _ in range(6)))
    assert len({run_id for run_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


async def test_create_and_get(stores: Stores) -> None:
    run_id = uuid.uuid4()
    record, created = await stores.runs.create_run(
        ORG, SCENARIO, 3, run_id, idempotency_key="d1", trigger={"x": [1, 2]}, source="manual"
    )
    assert created and record.id == run_id and record.status == "queued"
    assert (record.version, record.operations, record.owner_epoch, record.state) == (3, 0, 0, {})
    assert await stores.runs.get(ORG, run_id) == record
    assert await stores.runs.get(OTHER, run_id) is None
    assert await stores.runs.get(ORG, uuid.uuid4()) is None


async def test_get_without_state_for_watchers(stores: Stores) -> None:
    run_id, _ = await _run(stores, "light")
    await stores.runs.save_states([StateWrite(ORG, run_id, 1, {"big": [1] * 50}, "running", 4)])
    full = await stores.runs.get(ORG, run_id)
    light = await stores.runs.get(ORG, run_id, with_state=False)
    assert full is not None and light is not None
    assert (light.state, light.trigger) == ({}, {}) and full.state == {"big": [1] * 50}
    assert light == dataclasses.replace(full, state={}, trigger={})
    assert await stores.runs.get(OTHER, run_id, with_state=False) is None


async def test_duplicate_delivery_starts_one_run(stores: Stores) -> None:
    first, created = await _run(stores, "delivery-1")
    again, created_again = await _run(stores, "delivery-1")
    assert created and not created_again and again == first
    # Same key for another scenario, or no key at all, is a different run.
    other, created_other = await _run(stores, "delivery-1", scenario=uuid.uuid4())
    assert created_other and other != first
    a, _ = await _run(stores, None)
    b, _ = await _run(stores, None)
    assert a != b


async def test_concurrent_duplicates_start_one_run(stores: Stores) -> None:
    results = await asyncio.gather(*(_run(stores, "storm") for _ in range(8)))
    assert len({run_id for run_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


async def test_replayed_run_id_returns_existing(stores: Stores) -> None:
    run_id = uuid.uuid4()
    await _run(stores, None, run_id=run_id)
    same, created = await _run(stores, None, run_id=run_id)
    assert same == run_id and not created
    with pytest.raises(ConflictError):  # the id is another org's: never reveal or reuse it
        await _run(stores, None, run_id=run_id, org=OTHER)


async def test_create_runs_batch_in_input_order(stores: Stores) -> None:
    existing, _ = await _run(stores, "old")
    batch = [
        NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "new-1", {}, "schedule"),
        NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "old", {}, "schedule"),
        NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "new-1", {}, "schedule"),
        NewRun(ORG, SCENARIO, 1, uuid.uuid4(), None, {}, "schedule"),
    ]
    results = await stores.runs.create_runs(batch)
    assert [created for _, created in results] == [True, False, False, True]
    assert results[0][0].id == batch[0].run_id == results[2][0].id
    assert results[1][0].id == existing and results[3][0].id == batch[3].run_id


async def test_list_filters_and_pages_newest_first(stores: Stores) -> None:
    other_scenario = uuid.uuid4()
    made = [
        (await _run(stores, f"k{i}", scenario=SCENARIO if i % 2 else other_scenario))[0]
        for i in range(7)
    ]
    await _run(stores, "x", org=OTHER)
    await stores.runs.save_states([StateWrite(ORG, made[0], 1, {}, "succeeded", 2)])
    collected: list[uuid.UUID] = []
    token: str | None = None
    for _ in range(10):
        page = await stores.runs.list(ORG, page_size=2, page_token=token)
        collected += [r.id for r in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert collected == list(reversed(made))
    by_scenario = await stores.runs.list(ORG, scenario_id=SCENARIO)
    assert [r.id for r in by_scenario.items] == [made[5], made[3], made[1]]
    done = await stores.runs.list(ORG, status=["succeeded", "failed"])
    assert [r.id for r in done.items] == [made[0]]
    queued = await stores.runs.list(ORG, status=["queued"], scenario_id=other_scenario)
    assert [r.id for r in queued.items] == [made[6], made[4], made[2]]
    with pytest.raises(InvalidPageTokenError):
        await stores.runs.list(ORG, page_token="eyJ4Ijox")


async def test_fencing_rejects_stale_epochs(stores: Stores) -> None:
    a, _ = await _run(stores, "a")
    b, _ = await _run(stores, "b")
    first = await stores.runs.save_states(
        [
            StateWrite(ORG, a, 5, {"step": 1}, "running", 1),
            StateWrite(ORG, b, 5, {"step": 1}, "running", 1),
        ]
    )
    assert set(first.accepted) == {a, b} and first.rejected == ()
    # Same epoch may write again (the current owner's next batch).
    again = await stores.runs.save_states([StateWrite(ORG, a, 5, {"step": 2}, "running", 2)])
    assert again.accepted == (a,)
    # The new owner (epoch 6) takes over run b; the old owner (5) is fenced off for b only.
    await stores.runs.save_states([StateWrite(ORG, b, 6, {"step": 9}, "running", 4)])
    stale = await stores.runs.save_states(
        [
            StateWrite(ORG, a, 5, {"step": 3}, "running", 3),
            StateWrite(ORG, b, 5, {"step": 2}, "failed", 2),
        ]
    )
    assert stale.accepted == (a,) and stale.rejected == (b,)
    run_b = await stores.runs.get(ORG, b)
    assert run_b is not None
    assert (run_b.state, run_b.status, run_b.operations, run_b.owner_epoch) == (
        {"step": 9},
        "running",
        4,
        6,
    )
    run_a = await stores.runs.get(ORG, a)
    assert run_a is not None and run_a.state == {"step": 3} and run_a.owner_epoch == 5


async def test_writes_to_unknown_or_foreign_runs_are_rejected(stores: Stores) -> None:
    run_id, _ = await _run(stores, "a")
    result = await stores.runs.save_states(
        [
            StateWrite(OTHER, run_id, 9, {"evil": True}, "failed", 0),
            StateWrite(ORG, uuid.uuid4(), 9, {}, "failed", 0),
        ]
    )
    assert result.accepted == () and len(result.rejected) == 2
    run = await stores.runs.get(ORG, run_id)
    assert run is not None and run.state == {} and run.owner_epoch == 0


async def test_a_run_once_per_batch(stores: Stores) -> None:
    run_id, _ = await _run(stores, "a")
    with pytest.raises(ValueError):
        await stores.runs.save_states(
            [
                StateWrite(ORG, run_id, 1, {}, "running", 0),
                StateWrite(ORG, run_id, 1, {}, "running", 1),
            ]
        )


async def test_state_round_trips_json(stores: Stores) -> None:
    run_id, _ = await _run(stores, "a")
    items: list[object] = [1, 2.5, None, True, "ü"]
    state = {"nested": {"list": items, "empty": {}}, "big": 2**53}
    await stores.runs.save_states([StateWrite(ORG, run_id, 1, state, "running", 7)])
    run = await stores.runs.get(ORG, run_id)
    assert run is not None and run.state == state and run.operations == 7
    items.append("mutated after save")
    again = await stores.runs.get(ORG, run_id)
    assert again is not None and len(again.state["nested"]["list"]) == 5


async def test_racing_owners_leave_the_newest_epochs_state(stores: Stores) -> None:
    run_id, _ = await _run(stores, "race")
    for round_ in range(5):
        old = StateWrite(ORG, run_id, 10 * round_ + 1, {"by": "old"}, "running", round_)
        new = StateWrite(ORG, run_id, 10 * round_ + 2, {"by": "new"}, "running", round_)
        results = await asyncio.gather(
            stores.runs.save_states([old]), stores.runs.save_states([new])
        )
        assert results[1].accepted == (run_id,)  # the newer epoch always wins
        run = await stores.runs.get(ORG, run_id)
        assert run is not None and run.state == {"by": "new"} and run.owner_epoch == new.owner_epoch


async def test_owner_epochs_only_grow(stores: Stores) -> None:
    first = await stores.runs.next_owner_epoch()
    second = await stores.runs.next_owner_epoch()
    assert second > first >= 1


async def test_created_runs_keep_their_triggers(stores: Stores) -> None:
    """A new run's trigger is the caller's (not read back); an existing run's is the stored one."""
    big = {"records": [{"sku": f"s{i}", "qty": i, "price": 1.5} for i in range(500)]}
    first = NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "same-key", big, "webhook")
    again = NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "same-key", {"other": True}, "webhook")
    results = await stores.runs.create_runs([first, again])
    assert [created for _, created in results] == [True, False]
    assert results[0][0].trigger == big and results[1][0].trigger == big
    later, created = (await stores.runs.create_runs([again]))[0]
    assert not created and later.trigger == big and later == results[0][0]
    assert await stores.runs.get(ORG, first.run_id) == results[0][0]


async def test_a_claimed_trigger_is_stored_by_reference(stores: Stores) -> None:
    """A trigger kept in the claim store: the run stores its reference, never the body, and
    every read (new, existing, light, listed) gives the reference back."""
    claim = ClaimRef(ref_for("ab" * 32), "ab" * 32, 10_485_717)
    new = NewRun(ORG, SCENARIO, 1, uuid.uuid4(), "claimed", {}, "webhook", claim)
    (created, is_new), (again, is_again_new) = await stores.runs.create_runs([new, new])
    assert is_new and not is_again_new
    assert created.trigger_claim == claim and created.trigger == {} and again == created
    assert await stores.runs.get(ORG, new.run_id) == created
    light = await stores.runs.get(ORG, new.run_id, with_state=False)
    assert light is not None and light.trigger_claim == claim
    listed = await stores.runs.list(ORG, scenario_id=SCENARIO)
    assert [r.trigger_claim for r in listed.items if r.id == new.run_id] == [claim]
    plain, _ = await stores.runs.create_run(
        ORG, SCENARIO, 1, uuid.uuid4(), idempotency_key=None, trigger={"a": 1}, source="api"
    )
    assert plain.trigger_claim is None
    assert (await stores.runs.get(ORG, plain.id)) == plain
