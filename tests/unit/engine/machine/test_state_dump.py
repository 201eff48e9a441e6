"""dump_state shares bundle data with the live state instead of copying it (workload 5: a
10 MB trigger was copied into Python objects on every save), without aliasing what changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from scenarist_engine.machine import Plan, RunStatus, dump_state, load_state, start_run
from scenarist_engine.machine.state import RunState
from scenarist_engine.model.loading import scenario_from_data

BIG = {
    "name": "big",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {
            "id": 2,
            "module": "util:SetVariable2",
            "mapper": {"name": "records", "value": "{{1.records}}"},
        },
        {
            "id": 3,
            "module": "util:SetVariables",
            "mapper": {"variables": [{"name": "count", "value": "{{length(2.records)}}"}]},
        },
        # A task (run by an executor) keeps the run going, so its state is saved mid-run.
        {"id": 4, "module": "util:FunctionSleep", "mapper": {"duration": "0"}},
    ],
}


def _run(*, finished: bool = False) -> tuple[dict[str, Any], RunState]:
    trigger = {"records": [{"sku": f"s{i}", "qty": i} for i in range(50)]}
    document = {**BIG, "flow": BIG["flow"][:3]} if finished else BIG
    plan = Plan.build(scenario_from_data(document))
    state, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[trigger]])
    assert len(tasks) == (0 if finished else 1)
    return trigger, state


def test_bundle_data_is_shared_not_copied() -> None:
    trigger, state = _run()
    saved = dump_state(state)
    assert saved["trigger_batches"][0][0] is trigger
    # The module mapped the trigger's array into a variable: one array in memory, not three.
    assert saved["cycle_variables"]["records"] is trigger["records"]
    assert saved["cycle_variables"]["count"] == 50


def test_containers_that_change_are_not_aliased() -> None:
    _, state = _run()
    saved = dump_state(state)
    before = orjson.dumps(saved)
    state.cycle_variables["later"] = 1
    state.variables["x"] = 2
    state.trigger_batches.append([{"next": True}])
    assert orjson.dumps(saved) == before


def test_a_dump_is_json_and_loads_back() -> None:
    _, state = _run()
    state.persistent["when"] = datetime(2024, 1, 2, tzinfo=UTC)
    saved = orjson.loads(orjson.dumps(dump_state(state)))
    assert saved["persistent"]["when"] == "2024-01-02T00:00:00.000Z"
    loaded = load_state(saved)
    assert loaded.cycle_variables["records"] == state.cycle_variables["records"]
    assert load_state(saved) == loaded


def test_a_finished_run_does_not_write_its_trigger_and_cycle_variables_again() -> None:
    _, state = _run(finished=True)
    assert state.status is RunStatus.SUCCESS
    saved = dump_state(state)
    # The trigger is stored with the run, the cycle's values are in the step logs; what the
    # run API reads from a finished state is still there.
    assert saved["trigger_batches"] == [] and saved["cycle_variables"] == {}
    assert saved["status"] == "success" and saved["operations"] == 3
    assert saved["execution"]["run_id"] == "r" and saved["finished_at"] is not None
    assert load_state(saved).status is RunStatus.SUCCESS
