"""A triggered run's row and its first state go to the store in one save (StateWrite.create),
and the requests whose run exists already (redeliveries, duplicates, runs created but never
started) are still told apart as before (in-process bus and stores, stepped by hand)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunEventType, RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_bus import envelope, topics
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.models import NewRun, OutboxMessage, RunRecord, SaveResult, StateWrite
from test_orchestrator_cancel import SLOW
from test_orchestrator_parking import ECHO, Stack


class CountingRuns(MemoryRunStore):
    def __init__(self) -> None:
        super().__init__()
        self.creates = 0
        self.saves: list[list[StateWrite]] = []

    async def create_runs(self, batch: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        self.creates += 1
        return await super().create_runs(batch)

    async def save_states(
        self,
        batch: Sequence[StateWrite],
        outbox_messages: Sequence[OutboxMessage] = (),
        *,
        lease_seconds: float | None = None,
        published: Sequence[int] = (),
    ) -> SaveResult:
        self.saves.append(list(batch))
        return await super().save_states(
            batch, outbox_messages, lease_seconds=lease_seconds, published=published
        )


async def _stack(document: dict[str, Any] = ECHO) -> tuple[Stack, CountingRuns, uuid.UUID]:
    stack = Stack()
    runs = CountingRuns()
    stack.use_runs(runs)
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "echo", document)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    return stack, runs, scenario.id


async def send_request(
    stack: Stack,
    scenario_id: uuid.UUID,
    run_id: str,
    *,
    kind: str = envelope.RUN_REQUESTED,
    key: str = "",
    n: int = 1,
    version: int = 0,
) -> None:
    """A RunRequested as a trigger sends it (version 0: the latest), or pinned to `version`."""
    payload = RunRequested(
        run_id=run_id,
        organization_id=str(stack.org),
        scenario_id=str(scenario_id),
        trigger=orjson.dumps({"n": n}).decode() if kind == envelope.RUN_REQUESTED else "",
        source=TRIGGER_SOURCE_WEBHOOK,
        idempotency_key=key,
        scenario_version=version,
    )
    producer = await stack.bus.producer()
    await producer.send(
        envelope.wrap(
            topics.RUNS_REQUESTED,
            payload,
            event_type=kind,
            run_id=run_id,
            organization_id=str(stack.org),
            source="test",
        )
    )


async def _finished(stack: Stack) -> list[str]:
    return [
        e.run_id for e in await stack.new_events() if e.type == RunEventType.RUN_EVENT_TYPE_FINISHED
    ]


async def test_a_triggered_run_is_inserted_by_its_first_save() -> None:
    stack, runs, scenario_id = await _stack()
    run_id = str(uuid.uuid4())
    await send_request(stack, scenario_id, run_id, n=7)
    await stack.steps()
    assert runs.creates == 0  # no insert of its own before the save
    first = runs.saves[0]
    assert [w.run_id for w in first] == [uuid.UUID(run_id)]
    assert first[0].create is not None and first[0].create.trigger == {"n": 7}
    record = await runs.get(stack.org, uuid.UUID(run_id))
    assert record is not None and record.status == "success" and record.trigger == {"n": 7}
    assert record.source == "webhook" and record.version == 1
    # Created when it started (the engine's clock), not when its first save inserted it.
    started = record.state["execution"]["started_at"]
    assert record.created_at.timestamp() == pytest.approx(started, abs=1e-6)
    assert await _finished(stack) == [run_id]


async def test_a_redelivered_request_runs_its_run_once() -> None:
    stack, runs, scenario_id = await _stack()
    run_id = str(uuid.uuid4())
    await send_request(stack, scenario_id, run_id)
    await stack.steps()
    before = await runs.get(stack.org, uuid.UUID(run_id))
    await send_request(stack, scenario_id, run_id)  # the bus delivered it again
    await stack.steps()
    assert runs.creates == 1  # the second insert was refused, then the run was looked up
    after = await runs.get(stack.org, uuid.UUID(run_id))
    assert after == before
    assert await _finished(stack) == [run_id]  # one run, one FINISHED


async def test_a_run_created_but_never_started_is_started_by_its_request() -> None:
    stack, runs, scenario_id = await _stack()
    run_id = uuid.uuid4()
    await MemoryRunStore.create_runs(
        runs, [NewRun(stack.org, scenario_id, 1, run_id, None, {"n": 3}, "webhook")]
    )
    await send_request(stack, scenario_id, str(run_id), n=3)
    await stack.steps()
    record = await runs.get(stack.org, run_id)
    assert record is not None and record.status == "success"
    assert await _finished(stack) == [str(run_id)]


async def test_a_duplicate_idempotency_key_starts_nothing() -> None:
    stack, runs, scenario_id = await _stack()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await send_request(stack, scenario_id, first, key="order-1")
    await stack.steps()
    await send_request(stack, scenario_id, second, key="order-1")
    await stack.steps()
    assert await stack.status(first) == "success"
    assert await stack.status(second) is None  # no run of its own
    assert runs.creates == 1  # its insert was refused, and the lookup found the first
    assert await _finished(stack) == [first]


async def test_a_cancel_in_the_batch_still_cancels_a_run_that_existed() -> None:
    stack, runs, scenario_id = await _stack(SLOW)  # stays running: its sleep is a task
    run_id = uuid.uuid4()
    await MemoryRunStore.create_runs(
        runs, [NewRun(stack.org, scenario_id, 1, run_id, None, {"n": 3}, "webhook")]
    )
    await send_request(stack, scenario_id, str(run_id))
    await send_request(stack, scenario_id, str(run_id), kind=envelope.RUN_CANCEL)
    await stack.orchestrator.run_once()  # both in one batch
    assert await stack.status(str(run_id)) == "cancelled"
    assert await stack.executor.run_once() == 0  # its sleep was never dispatched


async def test_a_cancel_in_the_batch_cancels_a_new_run() -> None:
    stack, runs, scenario_id = await _stack(SLOW)
    run_id = str(uuid.uuid4())
    await send_request(stack, scenario_id, run_id)
    await send_request(stack, scenario_id, run_id, kind=envelope.RUN_CANCEL)
    await stack.orchestrator.run_once()
    assert await stack.status(run_id) == "cancelled"
    assert runs.creates == 0 and len(runs.saves) == 1
