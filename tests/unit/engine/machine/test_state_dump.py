"""dump_state shares bundle data with the live state instead of copying it (workload 5: a
10 MB trigger was copied into Python objects on every save), without aliasing what changes."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter
from scenarist_engine.machine import Plan, RunStatus, dump_state, load_state, start_run
from scenarist_engine.machine.state import Execution, RunState, Scope, ScopeKind, Token
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


def _fan_out_state() -> RunState:
    state = RunState(execution=Execution("r", "s", "UTC", 1.0))
    shared = {"shared": 1}
    failed = Token("h", 2, {1: {"c": 1}}, [2], 0)
    state.scopes[0] = Scope(0, ScopeKind.CYCLE, None, items=[([1], ["a"], {"x": 1})])
    state.scopes[3] = Scope(
        3, ScopeKind.HANDLER, 0, live=2, limit=3, route_index=2, matched=True, aggregator_id=4,
        queue=[Token("q", 3, {1: {"b": 2}}, [0, 1], 3, handler_for=failed)],
        origin=Token("o", 1, {}, [], 0, attempt=2, filtered=True),
    )  # fmt: skip
    state.in_flight["t"] = Token("t", 2, {1: shared, 2: {"z": [1, 2]}}, [0], 0)
    state.in_flight["u"] = Token("u", 2, {1: shared}, [1], 0)
    return state


def _by_pydantic(value: Any, bundles: list[Any]) -> Any:
    """Tokens and scopes as pydantic dumps them, with bundles replaced by their references."""

    def interned(token: Token | None) -> Token | None:
        if token is None:
            return None
        path = {k: {"$bundle": next(i for i, b in enumerate(bundles) if b is v)}
                for k, v in token.path.items()}  # fmt: skip
        return replace(token, path=path, handler_for=interned(token.handler_for))

    if isinstance(value, Token):
        return TypeAdapter(Token).dump_python(interned(value), mode="json")
    queue = [interned(token) for token in value.queue]
    scope = replace(value, queue=queue, origin=interned(value.origin))
    return TypeAdapter(Scope).dump_python(scope, mode="json")


def test_tokens_and_scopes_are_dumped_as_pydantic_would() -> None:
    """dump_state writes tokens and scopes by hand (fast); loading still goes through pydantic,
    so the two must agree field for field, including fields added later."""
    state = _fan_out_state()
    saved = dump_state(state)
    bundles = saved["bundles"]
    for key, token in state.in_flight.items():
        assert saved["in_flight"][key] == _by_pydantic(token, bundles)
    for key, scope in state.scopes.items():
        assert saved["scopes"][str(key)] == _by_pydantic(scope, bundles)
    assert set(saved["in_flight"]["t"]) == {f.name for f in fields(Token)}
    assert set(saved["scopes"]["3"]) == {f.name for f in fields(Scope)}
    assert load_state(orjson.loads(orjson.dumps(saved))) == state
