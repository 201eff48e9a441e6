from __future__ import annotations

import uuid

import pytest
from scenarist_storage import IntegrityError, OutboxMessage, StateWrite
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000c1")


async def _new_run(stores: Stores, key: str) -> uuid.UUID:
    record, _ = await stores.runs.create_run(
        ORG, uuid.uuid4(), 1, uuid.uuid4(), idempotency_key=key, trigger={}, source="api"
    )
    return record.id


def _msg(run_id: uuid.UUID | None, n: int, topic: str = "tasks.module") -> OutboxMessage:
    return OutboxMessage(
        topic=topic,
        key=str(run_id).encode() if run_id else None,
        value=f"task-{n}".encode(),
        headers=[("traceparent", b"00-abc-01"), ("attempt", str(n).encode())],
        run_id=run_id,
    )


async def test_state_and_messages_commit_together(stores: Stores) -> None:
    run_id = await _new_run(stores, "a")
    result = await stores.runs.save_states(
        [StateWrite(ORG, run_id, 1, {"s": 1}, "running", 1)],
        [_msg(run_id, 1), _msg(run_id, 2), _msg(None, 3, "runs.events")],
    )
    assert result.outbox_written == 3
    claimed = await stores.runs.claim_outbox(10)
    assert [m.value for m in claimed] == [b"task-1", b"task-2", b"task-3"]
    assert claimed[0].headers == (("traceparent", b"00-abc-01"), ("attempt", b"1"))
    assert claimed[0].key == str(run_id).encode() and claimed[2].key is None
    assert claimed[0].run_id == run_id and claimed[2].topic == "runs.events"


async def test_failing_batch_leaves_neither_state_nor_messages(stores: Stores) -> None:
    run_id = await _new_run(stores, "a")
    with pytest.raises(IntegrityError):
        await stores.runs.save_states(
            [StateWrite(ORG, run_id, 4, {"s": "lost"}, "running", 3)],
            [_msg(run_id, 1), _msg(run_id, 2, topic="")],  # empty topic breaks a constraint
        )
    run = await stores.runs.get(ORG, run_id)
    assert run is not None and run.state == {} and run.owner_epoch == 0 and run.operations == 0
    assert await stores.runs.claim_outbox(10) == []


async def test_fenced_writer_emits_nothing_for_its_run(stores: Stores) -> None:
    a = await _new_run(stores, "a")
    b = await _new_run(stores, "b")
    await stores.runs.save_states([StateWrite(ORG, b, 7, {}, "running", 0)])
    result = await stores.runs.save_states(
        [StateWrite(ORG, a, 6, {}, "running", 0), StateWrite(ORG, b, 6, {}, "running", 0)],
        [_msg(a, 1), _msg(b, 2), _msg(None, 3)],
    )
    assert result.rejected == (b,) and result.outbox_written == 2
    assert [m.value for m in await stores.runs.claim_outbox(10)] == [b"task-1", b"task-3"]


async def test_claims_are_leased_and_deleted_after_publish(stores: Stores) -> None:
    run_id = await _new_run(stores, "a")
    await stores.runs.save_states([], [_msg(run_id, n) for n in range(5)])
    first = await stores.runs.claim_outbox(2, lease_seconds=60)
    second = await stores.runs.claim_outbox(10, lease_seconds=60)
    assert [m.value for m in first] == [b"task-0", b"task-1"]
    assert [m.value for m in second] == [b"task-2", b"task-3", b"task-4"]
    assert await stores.runs.claim_outbox(10) == []  # all leased
    assert await stores.runs.delete_outbox([m.id for m in first]) == 2
    assert await stores.runs.delete_outbox([m.id for m in first]) == 0


async def test_expired_lease_is_claimed_again(stores: Stores) -> None:
    await stores.runs.save_states([], [_msg(None, 1)])
    crashed = await stores.runs.claim_outbox(10, lease_seconds=0)
    retried = await stores.runs.claim_outbox(10, lease_seconds=60)
    assert [m.id for m in retried] == [m.id for m in crashed]
    assert await stores.runs.delete_outbox([m.id for m in retried]) == 1
    assert await stores.runs.claim_outbox(10, lease_seconds=0) == []


async def test_leased_save_returns_its_messages_and_deletes_the_published(
    stores: Stores,
) -> None:
    a = await _new_run(stores, "a")
    b = await _new_run(stores, "b")
    await stores.runs.save_states([StateWrite(ORG, b, 7, {}, "running", 0)])
    first = await stores.runs.save_states(
        [StateWrite(ORG, a, 6, {}, "running", 0), StateWrite(ORG, b, 6, {}, "running", 0)],
        [_msg(a, 1), _msg(b, 2), _msg(None, 3, "runs.events"), OutboxMessage("t", None, b"4")],
        lease_seconds=60,
    )
    assert first.rejected == (b,) and first.outbox_written == 3
    assert [m.value for m in first.leased] == [b"task-1", b"task-3", b"4"]
    assert [m.id for m in first.leased] == sorted(m.id for m in first.leased)
    assert first.leased[0].headers == (("traceparent", b"00-abc-01"), ("attempt", b"1"))
    assert first.leased[0].run_id == a and first.leased[1].key is None
    assert first.leased[2].headers == ()
    assert await stores.runs.claim_outbox(10) == []  # leased to the writer already
    second = await stores.runs.save_states(
        [StateWrite(ORG, a, 6, {"s": 2}, "running", 1)],
        [_msg(a, 5)],
        published=[m.id for m in first.leased],
    )
    assert second.leased == () and second.outbox_written == 1
    # The published rows are gone; the unleased one is there for the relay.
    assert [m.value for m in await stores.runs.claim_outbox(10)] == [b"task-5"]


async def test_expired_save_lease_goes_to_the_relay(stores: Stores) -> None:
    saved = await stores.runs.save_states([], [_msg(None, 1)], lease_seconds=0)
    relayed = await stores.runs.claim_outbox(10, lease_seconds=60)
    assert [m.id for m in relayed] == [m.id for m in saved.leased]
