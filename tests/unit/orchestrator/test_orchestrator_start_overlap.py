"""The engine starts a run while its row is being looked up or inserted (that is a round trip,
the start pure CPU), and a start made for the wrong version is redone with the pinned one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
import scenarist_orchestrator.new_runs as new_runs_module
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_orchestrator.parking import release_parked
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.models import NewRun, RunRecord
from test_orchestrator_new_run_write import send_request
from test_orchestrator_parking import ECHO, Stack


class Starts:
    def __init__(self) -> None:
        self.count = 0


class InsertWaitsForAStart(MemoryRunStore):
    """An insert that only completes once the engine has started a run: a processor that
    waited for the insert before starting would never get there (bounded)."""

    def __init__(self, starts: Starts) -> None:
        super().__init__()
        self.starts = starts

    async def create_runs(self, batch: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        async with asyncio.timeout(5.0):
            while self.starts.count == 0:
                await asyncio.sleep(0.001)
        return await super().create_runs(batch)


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Starts:
    counter = Starts()
    real = new_runs_module.start_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(new_runs_module, "start_run", counted)
    return counter


async def test_the_engine_starts_runs_while_they_are_looked_up(starts: Starts) -> None:
    stack = Stack()
    runs = InsertWaitsForAStart(starts)
    stack.use_runs(runs)
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "echo", ECHO)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    # As RunService.StartRun does: the row first, then a request pinned to its version.
    run_id = uuid.uuid4()
    new = NewRun(stack.org, scenario.id, 1, run_id, None, {"n": 1}, "api")
    await MemoryRunStore.create_runs(runs, [new])
    await send_request(stack, scenario.id, str(run_id), version=1)
    await stack.steps()
    assert await stack.status(str(run_id)) == "success"
    assert starts.count == 1


async def test_a_parked_run_starts_with_its_pinned_version_after_a_new_one(
    starts: Starts,
) -> None:
    stack = Stack()
    await stack.start()
    scenario = await stack.scenarios.create(stack.org, "echo", ECHO)
    run_id = await stack.request(scenario.id, 1, TRIGGER_SOURCE_WEBHOOK)
    await stack.steps(2)
    assert await stack.status(run_id) == "queued"  # inactive: parked at version 1
    longer = {**ECHO, "flow": [*ECHO["flow"], {"id": 3, "module": "util:ComposeTransformer",
                                               "mapper": {"value": "{{2.value}}"}}]}  # fmt: skip
    await stack.scenarios.new_version(stack.org, scenario.id, longer)
    await stack.scenarios.set_active(stack.org, scenario.id, True)
    assert await release_parked(stack.parked, await stack.bus.producer(), stack.org, scenario.id)
    await stack.steps()
    record = await stack.runs.get(stack.org, uuid.UUID(run_id))
    assert record is not None and record.status == "success" and record.version == 1
    assert record.state["operations"] == 2  # version 1's two modules, not version 2's three
    assert starts.count == 2  # the start made with the latest plan was redone
