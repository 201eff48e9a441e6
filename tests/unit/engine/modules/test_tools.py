"""Tools: variables in both scopes, increment, compose a string, switch and sleep."""

from __future__ import annotations

from typing import Any

import pytest
from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
ITERATOR: dict[str, Any] = {
    "id": 2,
    "module": "builtin:BasicFeeder",
    "mapper": {"array": "{{1.items}}"},
}


def _module(module_id: int, kind: str, **mapper: Any) -> dict[str, Any]:
    return {"id": module_id, "module": kind, "mapper": mapper}


# -- set / get variable(s) --------------------------------------------------------------------


def test_set_variable_outputs_it_and_get_variable_reads_it_back() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _module(2, "util:SetVariable2", name="email", scope="roundtrip", value="{{1.e}}"),
            _module(3, "util:GetVariable2", name="email"),
            _module(4, "util:ComposeTransformer", value="to {{3.email}}"),
        ],
        {"e": "ada@example.com"},
    )
    assert outcome.outputs(2) == [{"email": "ada@example.com"}]
    assert outcome.outputs(3) == [{"email": "ada@example.com"}]
    assert outcome.outputs(4) == [{"value": "to ada@example.com"}]
    assert outcome.operations == 4


def test_set_variable_keeps_the_mapped_type() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _module(2, "util:SetVariable2", name="items", value="{{1.items}}"),
            _module(3, "util:GetVariable2", name="items"),
        ],
        {"items": [1, {"a": True}]},
    )
    assert outcome.outputs(3) == [{"items": [1, {"a": True}]}]


def test_get_variable_that_was_never_set_is_null() -> None:
    # Names are case-sensitive: a typo reads null, silently, as in Make.
    outcome = run_flow(
        [
            WEBHOOK,
            _module(2, "util:SetVariable2", name="Total", value=1),
            _module(3, "util:GetVariable2", name="total"),
        ]
    )
    assert outcome.status == "success"
    assert outcome.outputs(3) == [{"total": None}]


def test_cycle_variables_reset_each_cycle_and_execution_variables_survive() -> None:
    flow = [
        WEBHOOK,
        _module(2, "util:GetVariables", variables=[{"name": "c"}, {"name": "e"}]),
        _module(3, "util:SetVariable2", name="c", scope="roundtrip", value="{{1.n}}"),
        _module(4, "util:SetVariable2", name="e", scope="execution", value="{{1.n}}"),
    ]
    outcome = run_flow(flow, [[{"n": 1}, {"n": 2}], [{"n": 3}]], settings={"max_cycles": 2})
    assert outcome.outputs(2) == [
        {"c": None, "e": None},
        {"c": 1, "e": 1},  # a cycle variable lives for the whole cycle, across bundles
        {"c": None, "e": 2},  # the next cycle starts without it
    ]
    assert outcome.state.variables == {"e": 3}


def test_scope_can_be_given_as_a_parameter() -> None:
    flow = [
        WEBHOOK,
        {
            "id": 2,
            "module": "util:SetVariable2",
            "parameters": {"scope": "execution"},
            "mapper": {"name": "x", "value": "{{1.n}}"},
        },
        _module(3, "util:GetVariable2", name="x"),
    ]
    outcome = run_flow(flow, [[{"n": 1}], [{"n": 2}]], settings={"max_cycles": 2})
    assert outcome.outputs(3) == [{"x": 1}, {"x": 2}]
    assert outcome.state.variables == {"x": 2}


def test_set_variables_sets_several_in_one_operation() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _module(
                2,
                "util:SetVariables",
                scope="execution",
                variables=[{"name": "a", "value": 1}, {"name": "b", "value": "{{1.x}}"}],
            ),
            _module(3, "util:GetVariables", variables=[{"name": "a"}, {"name": "b"}, "c"]),
        ],
        {"x": "y"},
    )
    assert outcome.ops(2) == 1
    assert outcome.outputs(2) == [{"a": 1, "b": "y"}]
    assert outcome.outputs(3) == [{"a": 1, "b": "y", "c": None}]


def test_cycle_variable_shadows_an_execution_variable_of_the_same_name() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _module(2, "util:SetVariable2", name="v", scope="execution", value="run"),
            _module(3, "util:SetVariable2", name="v", scope="roundtrip", value="cycle"),
            _module(4, "util:GetVariable2", name="v"),
        ]
    )
    assert outcome.outputs(4) == [{"v": "cycle"}]


@pytest.mark.parametrize(
    "module",
    [
        _module(2, "util:SetVariable2", name="", value=1),
        _module(2, "util:SetVariable2", name="x", scope="forever", value=1),
        _module(2, "util:SetVariables", variables="x=1"),
        _module(2, "util:SetVariables", variables=["x"]),
        _module(2, "util:SetVariables", variables=[{"value": 1}]),
        _module(2, "util:GetVariable2", name=""),
        _module(2, "util:GetVariables", variables={"name": "x"}),
    ],
    ids=lambda module: f"{module['module']} {module['mapper']}",
)
def test_bad_variable_settings_are_data_errors(module: dict[str, Any]) -> None:
    outcome = run_flow([WEBHOOK, module])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"


# -- increment ---------------------------------------------------------------------------------


def _increment(module_id: int, reset: str | None) -> dict[str, Any]:
    parameters = {} if reset is None else {"reset": reset}
    return {"id": module_id, "module": "util:FunctionIncrement", "parameters": parameters}


INCREMENTS = [WEBHOOK, ITERATOR, _increment(3, "run"), _increment(4, "execution")]
TWO_CYCLES = [[{"items": ["a", "b"]}], [{"items": ["c"]}]]


def test_increment_reset_run_starts_again_every_cycle() -> None:
    outcome = run_flow(INCREMENTS, TWO_CYCLES, settings={"max_cycles": 2})
    assert outcome.outputs(3) == [{"i": 1}, {"i": 2}, {"i": 1}]
    assert outcome.ops(3) == 3


def test_increment_reset_execution_counts_across_cycles_of_one_run() -> None:
    outcome = run_flow(INCREMENTS, TWO_CYCLES, settings={"max_cycles": 2})
    assert outcome.outputs(4) == [{"i": 1}, {"i": 2}, {"i": 3}]
    # A second run starts from 1 again.
    again = run_flow(INCREMENTS, TWO_CYCLES, settings={"max_cycles": 2})
    assert again.outputs(4) == [{"i": 1}, {"i": 2}, {"i": 3}]


def test_increment_default_reset_is_per_cycle() -> None:
    outcome = run_flow(
        [WEBHOOK, ITERATOR, _increment(3, None)], TWO_CYCLES, settings={"max_cycles": 2}
    )
    assert outcome.outputs(3) == [{"i": 1}, {"i": 2}, {"i": 1}]


def test_increment_reset_scenario_persists_from_one_run_to_the_next() -> None:
    flow = [WEBHOOK, ITERATOR, _increment(3, "scenario"), _increment(4, "scenario")]
    first = run_flow(flow, {"items": ["a", "b"]})
    assert first.outputs(3) == [{"i": 1}, {"i": 2}]
    second = run_flow(flow, {"items": ["c"]}, persistent=first.state.persistent)
    assert second.outputs(3) == [{"i": 3}]
    # Each increment module keeps its own counter.
    assert second.outputs(4) == [{"i": 3}]
    third = run_flow(flow, {"items": ["d"]}, persistent=second.state.persistent)
    assert third.outputs(3) == [{"i": 4}]
    # Without the stored state the count starts over.
    assert run_flow(flow, {"items": ["e"]}).outputs(3) == [{"i": 1}]


def test_increment_does_not_change_the_persistent_state_it_was_given() -> None:
    flow = [WEBHOOK, _increment(2, "scenario")]
    stored = run_flow(flow).state.persistent
    snapshot = dict(stored)
    run_flow(flow, persistent=stored)
    assert stored == snapshot


def test_increment_with_an_unknown_reset_is_a_data_error() -> None:
    outcome = run_flow([WEBHOOK, _increment(2, "weekly")])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"


# -- compose a string -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "trigger", "expected"),
    [
        ("Hi {{1.name}}, {{1.n * 2}}", {"name": "Ada", "n": 21}, "Hi Ada, 42"),
        ("{{1.n}}", {"n": 21}, "21"),  # always text, even from a single number
        ("{{1.flag}}", {"flag": True}, "true"),
        ("{{1.missing}}", {}, ""),
        ("{{1.obj}}", {"obj": {"a": [1, None]}}, '{"a":[1,null]}'),
        ("plain", {}, "plain"),
    ],
    ids=repr,
)
def test_compose_a_string_always_outputs_text(
    value: str, trigger: dict[str, Any], expected: str
) -> None:
    outcome = run_flow([WEBHOOK, _module(2, "util:ComposeTransformer", value=value)], trigger)
    assert outcome.outputs(2) == [{"value": expected}]
    assert outcome.ops(2) == 1


# -- switch -----------------------------------------------------------------------------------

SWITCH = _module(
    2,
    "util:Switcher",
    input="{{1.v}}",
    casesTable=[
        {"pattern": "1", "output": "one"},
        {"pattern": "TWO", "output": "two"},
        {"pattern": "1", "output": "shadowed"},
    ],
    elseOutput="other",
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "one"),  # loose: the number 1 matches the pattern "1"
        ("1", "one"),  # the first matching case wins
        (1.0, "one"),
        ("TWO", "two"),
        ("two", "other"),  # but case still matters
        (3, "other"),
        (None, "other"),
    ],
    ids=repr,
)
def test_switch_matches_loosely_and_falls_back_to_else(value: Any, expected: str) -> None:
    outcome = run_flow([WEBHOOK, SWITCH], {"v": value})
    assert outcome.outputs(2) == [{"output": expected}]
    assert outcome.ops(2) == 1


def test_switch_without_else_outputs_null() -> None:
    switch = _module(2, "util:Switcher", input="x", casesTable=[{"pattern": "y", "output": "z"}])
    assert run_flow([WEBHOOK, switch]).outputs(2) == [{"output": None}]


def test_switch_cases_and_outputs_may_be_mapped() -> None:
    switch = _module(
        2,
        "util:Switcher",
        input="{{1.country}}",
        casesTable=[{"pattern": "{{1.home}}", "output": "domestic {{1.country}}"}],
        elseOutput="abroad",
    )
    outcome = run_flow([WEBHOOK, switch], {"country": "CZ", "home": "CZ"})
    assert outcome.outputs(2) == [{"output": "domestic CZ"}]


def test_switch_with_cases_that_are_not_a_list_is_a_data_error() -> None:
    outcome = run_flow([WEBHOOK, _module(2, "util:Switcher", input="x", casesTable="x")])
    assert outcome.error_type == "DataError"


# -- sleep ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "slept", "now"),
    [
        (0, [], "2026-01-01T00:00:00.000Z"),
        (1.5, [1.5], "2026-01-01T00:00:01.500Z"),
        ("300", [300.0], "2026-01-01T00:05:00.000Z"),  # the upper bound is allowed
    ],
    ids=repr,
)
def test_sleep_waits_on_the_clock_before_the_next_module(
    duration: Any, slept: list[float], now: str
) -> None:
    flow = [
        WEBHOOK,
        _module(2, "util:FunctionSleep", duration=duration),
        _module(3, "util:ComposeTransformer", value="{{now}}"),
    ]
    outcome = run_flow(flow)
    assert outcome.status == "success"
    assert outcome.clock.slept == slept
    assert outcome.outputs(2) == [{}]
    assert outcome.outputs(3) == [{"value": now}]
    assert outcome.ops(2) == 1


@pytest.mark.parametrize("duration", [301, -1, "soon"], ids=repr)
def test_sleep_out_of_bounds_is_a_data_error_and_does_not_wait(duration: Any) -> None:
    outcome = run_flow([WEBHOOK, _module(2, "util:FunctionSleep", duration=duration)])
    assert outcome.status == "error"
    assert outcome.error_type == "DataError"
    assert outcome.clock.slept == []


def test_sleep_runs_once_per_bundle() -> None:
    flow = [WEBHOOK, ITERATOR, _module(3, "util:FunctionSleep", duration="{{2.value}}")]
    outcome = run_flow(flow, {"items": [1, 2, 3]})
    assert outcome.clock.slept == [1, 2, 3]
    assert outcome.ops(3) == 3
