"""The state machine's contract with a runtime: idempotent, serializable, order-independent."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.machine import (
    Plan,
    RunStatus,
    apply_result,
    dump_result,
    dump_state,
    dump_task,
    load_result,
    load_state,
    load_task,
    start_run,
    trigger_batches,
)
from scenarist_engine.machine.execution import run_module
from scenarist_engine.machine.state import ModuleTask, RunState, TaskResult
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.modules import ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.result import build_run_result
from scenarist_engine.runner import TaskLimitExceededError, VirtualClock, run_scenario


def _echo(call: ModuleCall) -> ModuleOutput:
    return ModuleOutput(bundles=[{"echo": call.inputs.get("value")}])


def _data_error(call: ModuleCall) -> ModuleOutput:
    raise ModuleError("bad input", ErrorType.DATA)


KINDS = {
    "test:Echo": ModuleKind("test:Echo", Role.ACTION, _echo),
    "test:Broken": ModuleKind("test:Broken", Role.ACTION, _data_error),
}

FAN_OUT = {
    "name": "fan-out",
    "settings": {"parallel_bundles": 8},
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
        {"id": 3, "module": "test:Echo", "mapper": {"value": "{{2.value * 10}}"}},
        {
            "id": 4,
            "module": "builtin:BasicAggregator",
            "parameters": {"feeder": 2},
            "mapper": {"v": "{{3.echo}}"},
        },
        {
            "id": 5,
            "module": "util:ComposeTransformer",
            "mapper": {"value": '{{join(map(4.array; "v"); ",")}}'},
        },
    ],
}


def _plan(document: dict[str, Any]) -> Plan:
    return Plan.build(scenario_from_data(document), KINDS)


def _execute(plan: Plan, task: ModuleTask) -> TaskResult:
    module = plan.modules[task.module_id]
    result, _ = run_module(plan.kinds[task.module_id], module, task, clock=lambda: 5.0)
    return result


def _drive_shuffled(plan: Plan, trigger: Any, seed: int, duplicate: bool = False) -> RunState:
    state, pending = start_run(plan, run_id="run-1", now=100.0, trigger=trigger_batches(trigger))
    rng = random.Random(seed)
    while pending:
        rng.shuffle(pending)
        task = pending.pop()
        result = _execute(plan, task)
        pending.extend(apply_result(plan, state, result, 101.0))
        if duplicate:
            assert apply_result(plan, state, result, 102.0) == []
    return state


def test_parallel_bundles_issue_tasks_at_once_and_aggregate_in_bundle_order() -> None:
    plan = _plan(FAN_OUT)
    _, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1, 2, 3, 4, 5]}]])
    assert len(tasks) == 5
    for seed in range(5):
        final = _drive_shuffled(plan, {"items": [1, 2, 3, 4, 5]}, seed)
        assert final.status is RunStatus.SUCCESS
        result = build_run_result(plan, final)
        compose = next(m for m in result["modules"] if m["id"] == 5)
        assert compose["runs"][0]["output"] == [{"value": "10,20,30,40,50"}]


def test_parallel_bundles_is_a_window_a_finished_bundle_makes_room_for_the_next() -> None:
    # Two at a time over five bundles: when one of the two is done the third starts while the
    # other is still out (in waves it waited for both), and no more than two are ever out.
    document = {**FAN_OUT, "settings": {"parallel_bundles": 2}}
    plan = _plan(document)
    state, out = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1, 2, 3, 4, 5]}]])
    assert [t.path[2]["value"] for t in out] == [1, 2]
    started = [1, 2]
    while out:
        done = out.pop(0)
        released = apply_result(plan, state, _execute(plan, done), 1.0)
        started += [t.path[2]["value"] for t in released]
        out += released
        assert len(out) <= 2
        if len(started) < 5:
            assert len(released) == 1 and len(out) == 2
    assert started == [1, 2, 3, 4, 5]
    assert state.status is RunStatus.SUCCESS
    compose = next(m for m in build_run_result(plan, state)["modules"] if m["id"] == 5)
    assert compose["runs"][0]["output"] == [{"value": "10,20,30,40,50"}]


def test_sequential_by_default_one_task_at_a_time() -> None:
    document = {**FAN_OUT, "settings": {}}
    plan = _plan(document)
    _, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1, 2, 3]}]])
    assert len(tasks) == 1


def test_applying_a_result_twice_changes_nothing() -> None:
    plan = _plan(FAN_OUT)
    once = _drive_shuffled(plan, {"items": [1, 2, 3]}, seed=1)
    twice = _drive_shuffled(plan, {"items": [1, 2, 3]}, seed=1, duplicate=True)
    assert dump_state(once) == dump_state(twice)


def test_a_result_for_an_old_attempt_or_unknown_task_is_ignored() -> None:
    plan = _plan(FAN_OUT)
    state, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1]}]])
    stale = TaskResult(run_id="r", task_id=tasks[0].task_id, attempt=7)
    unknown = TaskResult(run_id="r", task_id="nope", attempt=1)
    before = dump_state(state)
    assert apply_result(plan, state, stale, 1.0) == []
    assert apply_result(plan, state, unknown, 1.0) == []
    assert dump_state(state) == before


def test_state_tasks_and_results_survive_json_between_any_two_steps() -> None:
    plan = _plan(FAN_OUT)
    state, pending = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1, 2, 3]}]])
    while pending:
        task = load_task(dump_task(pending.pop(0)))
        result = load_result(dump_result(_execute(plan, task)))
        state = load_state(dump_state(state))  # a new orchestrator picks the run up
        pending.extend(apply_result(plan, state, result, 1.0))
    assert state.status is RunStatus.SUCCESS
    assert state.operations == 1 + 1 + 3 + 1 + 1


def test_same_run_replayed_evaluates_uuid_and_random_the_same() -> None:
    document = {
        "name": "ids",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {
                "id": 2,
                "module": "util:ComposeTransformer",
                "mapper": {"value": "{{uuid}} {{random}}"},
            },
        ],
    }
    outputs = []
    for _ in range(2):
        run = run_scenario(scenario_from_data(document), {}, clock=VirtualClock(), run_id="same")
        outputs.append(run.result()["modules"][1]["runs"][0]["output"])
    assert outputs[0] == outputs[1]
    other = run_scenario(scenario_from_data(document), {}, clock=VirtualClock(), run_id="other")
    assert other.result()["modules"][1]["runs"][0]["output"] != outputs[0]


def test_non_retryable_errors_are_not_retried() -> None:
    document = {
        "name": "broken",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "test:Broken", "retry": {"max_attempts": 5}},
        ],
    }
    clock = VirtualClock()
    run = run_scenario(scenario_from_data(document), {}, clock=clock, external=KINDS)
    assert run.state.status is RunStatus.ERROR
    assert run.state.operations == 2
    assert clock.slept == []


def test_an_incomplete_execution_resumes_from_the_parked_module() -> None:
    document = {
        "name": "parked",
        "settings": {"store_incomplete": True},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "json:ParseJSON", "mapper": {"json": "{{1.doc}}"}},
            {"id": 3, "module": "util:ComposeTransformer", "mapper": {"value": "n={{2.n}}"}},
        ],
    }
    scenario = scenario_from_data(document)
    first = run_scenario(scenario, {"doc": "oops"}, clock=VirtualClock())
    assert first.state.status is RunStatus.WARNING
    parked = first.state.incomplete[0]
    # The operator fixes the data the parked bundle carries, then resumes it.
    parked.path[1] = {"doc": '{"n": 7}'}
    second = run_scenario(scenario, clock=VirtualClock(), resume=parked)
    assert second.state.status is RunStatus.SUCCESS
    assert second.result()["modules"][-1]["runs"][0]["output"] == [{"value": "n=7"}]


def test_sleep_is_a_task_and_the_runner_waits() -> None:
    document = {
        "name": "sleepy",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "util:FunctionSleep", "mapper": {"duration": 3}},
        ],
    }
    clock = VirtualClock()
    run = run_scenario(scenario_from_data(document), {}, clock=clock)
    assert run.state.status is RunStatus.SUCCESS
    assert clock.slept == [3.0]


def test_confidential_scenarios_keep_no_bundles_in_the_result() -> None:
    document = {
        "name": "secret",
        "settings": {"confidential": True},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.card}}"}},
        ],
    }
    result = run_scenario(scenario_from_data(document), {"card": "4111"}).result()
    assert "4111" not in repr(result)
    assert all("output" not in run for m in result["modules"] for run in m["runs"])


def test_the_first_webhook_response_wins() -> None:
    document = {
        "name": "respond",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.codes}}"}},
            {
                "id": 3,
                "module": "gateway:WebhookRespond",
                "mapper": {
                    "status": "{{2.value}}",
                    "body": "first",
                    "headers": [{"key": "X-Run", "value": "{{executionId}}"}],
                },
            },
        ],
    }
    run = run_scenario(scenario_from_data(document), {"codes": [201, 202]}, run_id="abc")
    assert run.state.response == {
        "status": 201,
        "headers": [{"key": "X-Run", "value": "abc"}],
        "body": "first",
    }


def test_a_runaway_run_is_stopped_by_the_task_limit() -> None:
    document = {
        "name": "many",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicRepeater", "mapper": {"repeats": 50}},
            {"id": 3, "module": "util:FunctionSleep", "mapper": {"duration": 0}},
        ],
    }
    with pytest.raises(TaskLimitExceededError):
        run_scenario(scenario_from_data(document), {}, clock=VirtualClock(), max_tasks=10)


def test_long_chains_and_large_fan_outs_do_not_grow_the_stack() -> None:
    chain = [{"id": 1, "module": "gateway:CustomWebHook"}] + [
        {
            "id": n,
            "module": "util:ComposeTransformer",
            "mapper": {"value": f"{{{{{n - 1}.value}}}}x"},
        }
        for n in range(2, 1200)
    ]
    run = run_scenario(scenario_from_data({"name": "chain", "flow": chain}), {"value": ""})
    assert run.state.status is RunStatus.SUCCESS
    fan = {
        "name": "fan",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicRepeater", "mapper": {"repeats": 5000}},
            {
                "id": 3,
                "module": "util:SetVariable2",
                "mapper": {"name": "i", "value": "{{2.i}}", "scope": "execution"},
            },
        ],
    }
    run = run_scenario(scenario_from_data(fan), {})
    assert run.state.variables["i"] == 5000
    assert run.state.operations == 1 + 1 + 5000


def test_a_task_carries_only_the_bundles_its_mapper_reads() -> None:
    plan = _plan(FAN_OUT)
    _, tasks = start_run(plan, run_id="r", now=0.0, trigger=[[{"items": [1, 2], "big": "x" * 100}]])
    # Module 3 maps {{2.value}}: the trigger bundle (module 1) stays behind.
    assert {tuple(task.path) for task in tasks} == {(2,)}


def test_a_saved_state_writes_each_shared_bundle_once() -> None:
    document = {**FAN_OUT, "settings": {"parallel_bundles": 200}}
    plan = _plan(document)
    big = "x" * 10_000
    state, tasks = start_run(
        plan, run_id="r", now=0.0, trigger=[[{"items": list(range(200)), "big": big}]]
    )
    assert len(tasks) == 200
    saved = dump_state(state)
    # 200 tokens share the trigger bundle: it is written once for them, not 200 times (the
    # run's input and the trigger's log entry hold the other two copies).
    assert str(saved).count(big) == 3
    loaded = load_state(saved)
    paths = [token.path for token in loaded.in_flight.values()]
    assert paths[0][1] is paths[1][1]  # shared again after loading
    assert loaded.in_flight["t3"].path[1]["big"] == big
    while tasks:
        pending = tasks.pop()
        tasks.extend(apply_result(plan, loaded, _execute(plan, pending), 1.0))
    assert loaded.status is RunStatus.SUCCESS
