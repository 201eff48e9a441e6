"""A big run state is saved as a core plus the entries that changed (docs/adr/0008): whatever
the steps, the store's core and entries load back to the state in memory, a save after one
result writes a few entries (not the whole fan-out), and a new owner carries on from them."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest
from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.machine import (
    Plan,
    RunStatus,
    apply_result,
    dump_state,
    load_state,
    start_run,
    trigger_batches,
)
from scenarist_engine.machine.execution import run_module
from scenarist_engine.machine.state import ModuleTask, RunState, TaskResult
from scenarist_engine.machine.state_entries import (
    ENTRIES,
    SPLIT_AT,
    StateDelta,
    StateSaver,
    load_split_state,
    split_core,
)
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.modules import ModuleCall, ModuleKind, ModuleOutput, Role


def _echo(call: ModuleCall) -> ModuleOutput:
    value = call.inputs.get("value")
    if call.inputs.get("fail") and isinstance(value, int | float) and value % 70 == 0:
        raise ModuleError("bad item", ErrorType.DATA)  # some items go down the error route
    if call.attempt == 1 and isinstance(value, int | float) and value % 30 == 0 and value:
        raise ModuleError("connection reset", ErrorType.CONNECTION)  # retried, then passes
    return ModuleOutput(bundles=[{"echo": value}])


KINDS = {"test:Echo": ModuleKind("test:Echo", Role.ACTION, _echo)}


def _fan_out(parallel: int, *, handler: bool = False) -> dict[str, Any]:
    echo: dict[str, Any] = {
        "id": 3,
        "module": "test:Echo",
        "mapper": {"value": "{{2.value * 10}}"},
        "retry": {"max_attempts": 2, "initial_interval_seconds": 0},
    }
    if handler:
        echo["onerror"] = [{"id": 8, "module": "builtin:Ignore"}]
        echo["mapper"] = {**echo["mapper"], "fail": "yes"}
    return {
        "name": "fan-out",
        "settings": {"parallel_bundles": parallel},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
            echo,
            {
                "id": 4,
                "module": "builtin:BasicAggregator",
                "parameters": {"feeder": 2},
                "mapper": {"v": "{{3.echo}}"},
            },
            {"id": 5, "module": "util:FunctionSleep", "mapper": {"duration": "0"}},
        ],
    }


class Store:
    """What Postgres keeps of one run: the core and the entries, applied as save_states does
    (a key both put and dropped is refused there too)."""

    def __init__(self) -> None:
        self.core: dict[str, Any] = {}
        self.entries: dict[str, Any] = {}

    def save(self, delta: StateDelta) -> None:
        assert not set(delta.dropped) & set(delta.entries)
        assert len(set(delta.dropped)) == len(delta.dropped)
        for key in delta.dropped:
            self.entries.pop(key, None)  # dropping an absent key is harmless, and not expected
        self.entries.update(_json(delta.entries))
        self.core = _json(delta.core)

    def load(self) -> RunState:
        return load_split_state(self.core, self.entries if split_core(self.core) else {})


def _json(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


def _whole(state: RunState) -> RunState:
    """The state as a whole save keeps it (a finished run keeps no trigger, for one)."""
    return load_state(_json(dump_state(state)))


def _execute(plan: Plan, task: ModuleTask) -> TaskResult:
    result, _ = run_module(plan.kinds[task.module_id], plan.modules[task.module_id], task)
    return result


def _drive(document: dict[str, Any], items: int, seed: int, *, handover_every: int = 0) -> Store:
    """Apply results one at a time in a shuffled order, saving a delta after each; every
    `handover_every` steps a new owner loads the run from the store and carries on."""
    plan = Plan.build(scenario_from_data(document), KINDS)
    trigger = {"items": list(range(items))}
    state, pending = start_run(plan, run_id="r", now=1.0, trigger=trigger_batches(trigger))
    store, saver, rng = Store(), StateSaver(), random.Random(seed)
    store.save(saver.delta(state))
    steps = 0
    while pending:
        rng.shuffle(pending)
        pending.extend(apply_result(plan, state, _execute(plan, pending.pop()), 2.0))
        state.log.clear()  # the orchestrator emits the operations as step logs and keeps none
        store.save(saver.delta(state))
        assert store.load() == _whole(state)
        steps += 1
        if handover_every and steps % handover_every == 0:
            state = store.load()
            saver = StateSaver(stored=store.entries)
    assert state.status is RunStatus.SUCCESS
    return store


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "document",
    [_fan_out(1000), _fan_out(1), _fan_out(7, handler=True), _fan_out(1000, handler=True)],
    ids=["parallel", "sequential", "limited-with-handler", "parallel-with-handler"],
)
def test_the_store_loads_back_the_state_after_every_step(
    document: dict[str, Any], seed: int
) -> None:
    store = _drive(document, 100, seed, handover_every=37 if seed else 0)
    assert store.entries == {} and ENTRIES not in store.core  # finished: nothing split


def test_a_save_after_one_result_writes_a_few_entries() -> None:
    plan = Plan.build(scenario_from_data(_fan_out(1000)), KINDS)
    state, pending = start_run(plan, run_id="r", now=1.0, trigger=[[{"items": list(range(500))}]])
    saver = StateSaver()
    state.log.clear()  # the orchestrator emits the operations as step logs and keeps none
    first = saver.delta(state)
    assert len(first.entries) > 1000  # 500 tokens, their 500 item bundles and the trigger's
    core_size = len(orjson.dumps(first.core))
    for _ in range(400):
        pending.extend(apply_result(plan, state, _execute(plan, pending.pop()), 2.0))
        state.log.clear()
        delta = saver.delta(state)
        # The aggregated item in and the token out (or the token again, for its retry): the
        # core does not grow with the fan-out.
        assert len(delta.entries) == 1 and len(delta.dropped) <= 1
        assert len(orjson.dumps(delta.core)) <= core_size + 64


def test_a_small_state_stays_whole() -> None:
    plan = Plan.build(scenario_from_data(_fan_out(1000)), KINDS)
    state, pending = start_run(
        plan, run_id="r", now=1.0, trigger=[[{"items": list(range(SPLIT_AT // 2))}]]
    )
    saver = StateSaver()
    while pending:
        delta = saver.delta(state)
        assert delta.entries == {} and delta.dropped == [] and ENTRIES not in delta.core
        pending.extend(apply_result(plan, state, _execute(plan, pending.pop()), 2.0))


def test_missing_entries_are_refused_not_loaded_as_a_smaller_state() -> None:
    plan = Plan.build(scenario_from_data(_fan_out(1000)), KINDS)
    state, _ = start_run(plan, run_id="r", now=1.0, trigger=[[{"items": list(range(200))}]])
    store = Store()
    store.save(StateSaver().delta(state))
    assert store.load() == state
    partial = copy.copy(store.entries)
    partial.pop(next(iter(partial)))
    with pytest.raises(ValueError, match="entries"):
        load_split_state(store.core, partial)


def test_bundles_no_token_holds_are_dropped_as_the_fan_out_moves_on() -> None:
    """Each step of an item adds its output bundle and leaves the one before: without dropping
    those nobody holds, the store would keep every bundle of the run until it ends."""
    document = _fan_out(1)
    chain = [{**document["flow"][2], "id": n, "mapper": {"value": f"{{{{{before}.echo}}}}"}}
             for before, n in ((3, 6), (6, 7), (7, 9))]  # fmt: skip
    document["flow"][3:3] = chain
    document["flow"][-2]["mapper"] = {"v": "{{9.echo}}"}
    plan = Plan.build(scenario_from_data(document), KINDS)
    state, pending = start_run(plan, run_id="r", now=1.0, trigger=[[{"items": list(range(100))}]])
    store, saver = Store(), StateSaver()
    largest = 0
    while pending:
        pending.extend(apply_result(plan, state, _execute(plan, pending.pop()), 2.0))
        state.log.clear()
        store.save(saver.delta(state))
        largest = max(largest, sum(1 for key in store.entries if key.startswith("b:")))
    assert state.status is RunStatus.SUCCESS
    # The trigger's bundle, 100 items' and 4 outputs per item: 501 if none were dropped.
    assert 101 <= largest < 300
    assert store.entries == {}
