"""A fan-out's state is saved as a core plus entries (docs/adr/0008); an orchestrator that
takes the run over mid-way loads both and finishes it, and a finished run leaves no entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_API
from scenarist_bus import envelope, topics
from scenarist_engine.machine.state_entries import ENTRIES
from scenarist_storage.errors import StorageError
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.models import OutboxMessage, SaveResult, StateWrite
from test_orchestrator_parking import Stack

ITEMS = 120
FAN_OUT: dict[str, Any] = {
    "name": "fan-out",
    "settings": {"parallel_bundles": 1000},
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
        {"id": 3, "module": "util:FunctionSleep", "mapper": {"duration": "0"}},
        {
            "id": 4,
            "module": "builtin:BasicAggregator",
            "parameters": {"feeder": 2},
            "mapper": {"v": "{{2.value}}"},
        },
        {
            "id": 5,
            "module": "util:ComposeTransformer",
            "mapper": {"value": "{{length(4.array)}}"},
        },
    ],
}


async def _start(stack: Stack) -> uuid.UUID:
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "fan-out", FAN_OUT)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    run_id = uuid.uuid4()
    payload = RunRequested(
        run_id=str(run_id),
        organization_id=str(stack.org),
        scenario_id=str(scenario.id),
        trigger=orjson.dumps({"items": list(range(ITEMS))}).decode(),
        source=TRIGGER_SOURCE_API,
    )
    producer = await stack.bus.producer()
    await producer.send(
        envelope.wrap(
            topics.RUNS_REQUESTED,
            payload,
            event_type=envelope.RUN_REQUESTED,
            run_id=str(run_id),
            organization_id=str(stack.org),
            source="test",
        )
    )
    return run_id


class CountingReads(MemoryRunStore):
    reads = 0

    async def state_entries(self, org_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, Any]:
        self.reads += 1
        return await super().state_entries(org_id, run_id)


async def test_a_new_owner_carries_a_split_fan_out_to_its_end() -> None:
    stack = Stack()
    runs = CountingReads()
    stack.use_runs(runs)
    run_id = await _start(stack)
    await stack.orchestrator.run_once()  # started: 120 tokens in flight, saved as entries
    record = await stack.runs.get(stack.org, run_id)
    assert record is not None and record.state[ENTRIES] > ITEMS
    assert "in_flight" not in record.state or record.state["in_flight"] == {}
    await stack.executor.run_once()
    await stack.orchestrator.run_once()  # some results applied: a delta saved
    stack.orchestrator._processor.forget()  # partitions moved: the next batch loads the run
    assert runs.reads == 0
    for _ in range(50):
        if await stack.status(str(run_id)) != "running":
            break
        await stack.steps(1)
    final = await stack.runs.get(stack.org, run_id)
    assert final is not None and final.status == "success", final.state.get("error")
    assert ENTRIES not in final.state and runs.reads == 1
    assert await stack.runs.state_entries(stack.org, run_id) == {}


class FailingSave(MemoryRunStore):
    async def save_states(
        self,
        batch: Sequence[StateWrite],
        outbox_messages: Sequence[OutboxMessage] = (),
        *,
        lease_seconds: float | None = None,
        published: Sequence[int] = (),
    ) -> SaveResult:
        if self.failing:
            raise StorageError("connection lost")
        return await super().save_states(
            batch, outbox_messages, lease_seconds=lease_seconds, published=published
        )

    failing = False


async def test_runs_of_a_batch_whose_save_failed_are_loaded_again() -> None:
    """Their state and what the store holds of it moved on in memory only: kept, the next save
    would write a delta against entries the store never got."""
    stack = Stack()
    runs = FailingSave()
    stack.use_runs(runs)
    processor = stack.orchestrator._processor
    await _start(stack)
    await stack.orchestrator.run_once()
    assert processor.live_runs == 1
    await stack.executor.run_once()
    runs.failing = True
    with pytest.raises(StorageError):
        await stack.orchestrator.run_once()
    assert processor.live_runs == 0


async def test_a_cancelled_split_run_keeps_no_entries() -> None:
    stack = Stack()
    run_id = await _start(stack)
    await stack.orchestrator.run_once()
    assert await stack.runs.state_entries(stack.org, run_id) != {}
    producer = await stack.bus.producer()
    await producer.send(
        envelope.wrap(
            topics.RUNS_REQUESTED,
            RunRequested(run_id=str(run_id), organization_id=str(stack.org)),
            event_type=envelope.RUN_CANCEL,
            run_id=str(run_id),
            organization_id=str(stack.org),
            source="test",
        )
    )
    await stack.orchestrator.run_once()
    record = await stack.runs.get(stack.org, run_id)
    assert record is not None and record.status == "cancelled"
    assert ENTRIES not in record.state and len(record.state["in_flight"]) == ITEMS
    assert await stack.runs.state_entries(stack.org, run_id) == {}
