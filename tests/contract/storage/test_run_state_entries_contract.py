"""State entries: the keyed parts of a big run state, written with the run's state write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from scenarist_storage import StateWrite
from scenarist_storage.models import OutboxMessage
from storage_contract import Stores

pytestmark = pytest.mark.contract

ORG = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
SCENARIO = uuid.uuid4()


async def _run(stores: Stores) -> uuid.UUID:
    record, _ = await stores.runs.create_run(
        ORG, SCENARIO, 1, uuid.uuid4(), idempotency_key=None, trigger={}, source="api"
    )
    return record.id


def _write(
    run_id: uuid.UUID,
    epoch: int,
    entries: dict[str, Any] | None = None,
    dropped: Sequence[str] = (),
) -> StateWrite:
    return StateWrite(ORG, run_id, epoch, {"core": epoch}, "running", 0, entries or {}, dropped)


async def test_entries_are_put_replaced_and_dropped_with_the_state(stores: Stores) -> None:
    run_id = await _run(stores)
    first = {"t:1": {"module_id": 2}, "t:2": {"module_id": 2}, "b:0": [1, "ü", None, 2**53]}
    await stores.runs.save_states([_write(run_id, 1, entries=first)])
    assert await stores.runs.state_entries(ORG, run_id) == first
    await stores.runs.save_states(
        [
            _write(
                run_id,
                1,
                entries={"t:2": {"module_id": 3}, "i:4:0": [[0], None, {}]},
                dropped=["t:1", "not-there"],
            )
        ]
    )
    assert await stores.runs.state_entries(ORG, run_id) == {
        "t:2": {"module_id": 3},
        "b:0": [1, "ü", None, 2**53],
        "i:4:0": [[0], None, {}],
    }
    run = await stores.runs.get(ORG, run_id)
    assert run is not None and run.state == {"core": 1}


async def test_a_fenced_write_changes_no_entry(stores: Stores) -> None:
    run_id = await _run(stores)
    await stores.runs.save_states([_write(run_id, 5, entries={"t:1": 1, "t:2": 2})])
    stale = await stores.runs.save_states(
        [_write(run_id, 4, entries={"t:1": "stale", "t:3": 3}, dropped=["t:2"])],
        [OutboxMessage("runs.tasks", b"k", b"v", run_id=run_id)],
    )
    assert stale.rejected == (run_id,) and stale.outbox_written == 0
    assert await stores.runs.state_entries(ORG, run_id) == {"t:1": 1, "t:2": 2}


async def test_entries_are_scoped_to_the_runs_organization(stores: Stores) -> None:
    run_id = await _run(stores)
    await stores.runs.save_states([_write(run_id, 1, entries={"t:1": 1})])
    assert await stores.runs.state_entries(OTHER, run_id) == {}
    assert await stores.runs.state_entries(ORG, uuid.uuid4()) == {}
    foreign = StateWrite(OTHER, run_id, 9, {}, "running", 0, entries={"t:1": "evil"})
    assert (await stores.runs.save_states([foreign])).rejected == (run_id,)
    assert await stores.runs.state_entries(ORG, run_id) == {"t:1": 1}


async def test_a_key_both_written_and_dropped_is_refused(stores: Stores) -> None:
    run_id = await _run(stores)
    with pytest.raises(ValueError):
        await stores.runs.save_states([_write(run_id, 1, entries={"t:1": 1}, dropped=["t:1"])])
    assert await stores.runs.state_entries(ORG, run_id) == {}
    run = await stores.runs.get(ORG, run_id)
    assert run is not None and run.state == {}


async def test_runs_of_one_batch_keep_their_own_entries(stores: Stores) -> None:
    a, b = await _run(stores), await _run(stores)
    await stores.runs.save_states(
        [_write(a, 1, entries={"t:1": "a"}), _write(b, 1, entries={"t:1": "b", "t:2": "b"})]
    )
    await stores.runs.save_states([_write(a, 1, dropped=["t:1"]), _write(b, 1, dropped=["t:2"])])
    assert await stores.runs.state_entries(ORG, a) == {}
    assert await stores.runs.state_entries(ORG, b) == {"t:1": "b"}
