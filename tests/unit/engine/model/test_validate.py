from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenarist_engine.errors import ScenarioValidationError
from scenarist_engine.filters import OPERATORS
from scenarist_engine.model.loading import load_scenario_file, scenario_from_data
from scenarist_engine.model.scenario import Scenario
from scenarist_engine.model.validate import validate_or_raise, validate_scenario

FIXTURES = Path(__file__).parents[3] / "fixtures"
TRIGGER = {"id": 1, "module": "gateway:CustomWebHook"}


def _scenario(*flow: dict[str, Any]) -> Scenario:
    return scenario_from_data({"name": "s", "flow": [TRIGGER, *flow]})


def _found(scenario: Scenario, **kwargs: Any) -> set[tuple[str, int | None]]:
    return {(issue.path, issue.module_id) for issue in validate_scenario(scenario, **kwargs)}


def _messages(scenario: Scenario) -> list[str]:
    return [issue.message for issue in validate_scenario(scenario)]


def _module(module_id: int, kind: str = "util:SetVariable2", **extra: Any) -> dict[str, Any]:
    return {"id": module_id, "module": kind, **extra}


def _router(module_id: int, *routes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return _module(module_id, "builtin:BasicRouter", routes=[{"flow": r} for r in routes], **extra)


def test_make_fixture_is_valid() -> None:
    scenario = load_scenario_file(FIXTURES / "make" / "orders-router.blueprint.json")
    assert validate_scenario(scenario) == []
    assert validate_or_raise(scenario) is scenario


def test_valid_router_scenario() -> None:
    scenario = _scenario(
        _module(2, mapper={"value": "{{1.amount}}"}),
        _router(
            3,
            [_module(4, mapper={"v": "{{2.value}} {{3.x}}"})],
            [_module(5, filter={"conditions": [[{"a": "{{4.v}}", "o": "exist"}]]})],
        ),
    )
    messages = _messages(scenario)
    # 4 is on a sibling route, so route 2 cannot see it.
    assert messages == ["refers to module 4, which is not upstream of this module"]


def test_duplicate_ids_anywhere() -> None:
    scenario = _scenario(
        _module(2, onerror=[_module(3, "builtin:Ignore")]),
        _router(4, [_module(3)], [_module(2)]),
    )
    found = _found(scenario)
    assert ("flow[2].routes[0].flow[0].id", 3) in found
    assert ("flow[2].routes[1].flow[0].id", 2) in found
    assert "also used at flow[1].onerror[0]" in str(validate_scenario(scenario))


def test_trigger_rules() -> None:
    scenario = scenario_from_data(
        {
            "name": "s",
            "flow": [
                _router(1, [_module(2)], filter={"conditions": [[{"a": "x", "o": "exist"}]]}),
            ],
        }
    )
    assert _found(scenario) == {("flow[0].filter", 1), ("flow[0].module", 1)}


def test_router_rules() -> None:
    scenario = _scenario(_router(2, [_module(3)], [_module(4)], []))
    no_routes = _scenario(_router(2), _module(3))
    found = _found(no_routes)
    assert ("flow[1].routes", 2) in found
    assert ("flow[1]", 2) in found  # something after the router
    assert ("flow[1].routes[2].flow", 2) in _found(scenario)


def test_at_most_one_fallback() -> None:
    data = _router(2, [_module(3)], [_module(4)])
    data["routes"][0]["fallback"] = True
    data["routes"][1]["fallback"] = True
    assert _messages(_scenario(data)) == ["a router has at most one fallback route"]


def test_only_routers_have_routes() -> None:
    scenario = _scenario(_module(2, routes=[{"flow": [_module(3)]}]))
    assert ("flow[1].routes", 2) in _found(scenario)


def test_error_handler_placement() -> None:
    scenario = _scenario(
        _router(
            2,
            [_module(3, onerror=[_module(4, onerror=[_module(5, "builtin:Ignore")])])],
            onerror=[_module(6, "builtin:Ignore")],
        ),
    )
    found = _found(scenario)
    assert ("flow[1].onerror", 2) in found  # not on routers
    assert ("flow[1].routes[0].flow[0].onerror[0].onerror", 4) in found  # not nested


def test_directive_rules() -> None:
    scenario = _scenario(
        _module(2, "builtin:Commit"),
        _module(
            3,
            onerror=[
                _module(4, "builtin:Ignore"),
                _module(5, onerror=[]),
                _module(6, "builtin:Break", onerror=[_module(7)]),
            ],
        ),
    )
    found = _found(scenario)
    assert ("flow[1].module", 2) in found  # outside a handler
    assert ("flow[2].onerror[0]", 4) in found  # not last
    assert ("flow[2].onerror[2].onerror", 6) in found
    assert ("flow[2].onerror[2]", 6) not in found


def test_directive_last_in_route_inside_handler() -> None:
    scenario = _scenario(
        _module(2, onerror=[_router(3, [_module(4), _module(5, "builtin:Resume")])]),
    )
    assert validate_scenario(scenario) == []


def test_unknown_module_kinds_only_when_registry_given() -> None:
    scenario = _scenario(_module(2, "nope:Nothing"))
    assert validate_scenario(scenario) == []
    known = {"gateway:CustomWebHook", "util:SetVariable2"}
    assert _found(scenario, known_modules=known) == {("flow[1].module", 2)}


def test_expression_syntax_errors_name_the_field() -> None:
    scenario = _scenario(
        _module(
            2,
            mapper={"email": "{{1.email", "list": [{"x": "ok"}, {"y": "{{lower(}}"}]},
            parameters={"p": "{{)}}"},
            flags={"groupBy": "{{1.a +}}"},
            filter={"conditions": [[{"a": "{{1.a", "o": "text:equal", "b": "{{}}"}]]},
        )
    )
    issues = validate_scenario(scenario)
    paths = {issue.path for issue in issues}
    assert paths >= {
        "flow[1].mapper.email",
        "flow[1].mapper.list[1].y",
        "flow[1].parameters.p",
        "flow[1].flags.groupBy",
        "flow[1].filter.conditions[0][0].a",
    }
    assert all(issue.module_id == 2 for issue in issues)
    email = next(issue for issue in issues if issue.path == "flow[1].mapper.email")
    assert "position" in email.message


def test_references_must_be_upstream() -> None:
    scenario = _scenario(
        _module(2, mapper={"a": "{{3.x}}", "b": "{{2.x}}", "c": "{{99.x}}", "d": "{{1.x}}"}),
        _module(3),
    )
    messages = sorted(_messages(scenario))
    assert messages == [
        "refers to module 2, which is not upstream of this module",
        "refers to module 3, which is not upstream of this module",
        "refers to module 99, which does not exist",
    ]


def test_error_handler_sees_the_failing_module() -> None:
    scenario = _scenario(
        _module(2, onerror=[_module(3, "builtin:Resume", mapper={"value": "{{2.x}} {{1.y}}"})]),
        _module(4, mapper={"v": "{{2.x}}"}),
    )
    assert validate_scenario(scenario) == []


def test_handler_modules_are_not_upstream_of_the_main_flow() -> None:
    scenario = _scenario(
        _module(2, onerror=[_module(3)]),
        _module(4, mapper={"v": "{{3.x}}"}),
    )
    assert _messages(scenario) == ["refers to module 3, which is not upstream of this module"]


def test_filter_references_exclude_the_module_itself() -> None:
    scenario = _scenario(_module(2, filter={"conditions": [[{"a": "{{2.x}}", "o": "exist"}]]}))
    assert _found(scenario) == {("flow[1].filter.conditions[0][0].a", 2)}


def test_aggregator_feeder_rules() -> None:
    scenario = _scenario(
        _module(2, "builtin:BasicFeeder", mapper={"array": "{{1.items}}"}),
        _module(3, "builtin:BasicAggregator"),
        _module(4, "util:TextAggregator", parameters={"feeder": 9}),
        _module(5, "util:NumericAggregator", parameters={"feeder": "2"}),
        _module(6, "util:TableAggregator", parameters={"feeder": True}),
    )
    found = _found(scenario)
    assert found == {
        ("flow[2].parameters.feeder", 3),
        ("flow[3].parameters.feeder", 4),
        ("flow[5].parameters.feeder", 6),
    }


def test_aggregated_modules_are_hidden_after_the_aggregator() -> None:
    scenario = _scenario(
        _module(2, "builtin:BasicFeeder", mapper={"array": "{{1.items}}"}),
        _module(3, mapper={"v": "{{2.value}}"}),
        _module(
            4,
            "builtin:BasicAggregator",
            parameters={"feeder": 2},
            mapper={"v": "{{3.v}}"},
            flags={"groupBy": "{{2.kind}}"},
        ),
        _module(5, mapper={"total": "{{4.array}} {{1.id}}", "bad": "{{3.v}}"}),
    )
    issues = validate_scenario(scenario)
    assert [(issue.path, issue.message) for issue in issues] == [
        ("flow[4].mapper.bad", "module 3's bundles were aggregated by module 4"),
    ]


def test_aggregator_feeder_from_other_route_is_rejected() -> None:
    scenario = _scenario(
        _router(
            2,
            [_module(3, "builtin:BasicFeeder")],
            [_module(4, "builtin:BasicAggregator", parameters={"feeder": 3})],
        )
    )
    assert _found(scenario) == {("flow[1].routes[1].flow[0].parameters.feeder", 4)}


def test_aggregator_feeder_above_a_router_is_on_the_path() -> None:
    scenario = _scenario(
        _module(2, "builtin:BasicFeeder"),
        _router(3, [_module(4, "builtin:BasicAggregator", parameters={"feeder": 2})]),
    )
    assert validate_scenario(scenario) == []


def test_filter_operator_codes() -> None:
    conditions = [[{"a": "x", "o": code, "b": "y"} for code in sorted(OPERATORS)]]
    conditions.append([{"a": "x", "o": "text:like"}, {"a": "x", "o": "number:equal:ci"}])
    scenario = _scenario(_module(2, filter={"conditions": conditions}))
    issues = validate_scenario(scenario)
    assert [issue.path for issue in issues] == [
        "flow[1].filter.conditions[1][0].o",
        "flow[1].filter.conditions[1][1].o",
    ]
    assert issues[0].message == "unknown filter operator 'text:like'"


def test_retry_rules() -> None:
    scenario = _scenario(
        _module(2, retry={"initial_interval_seconds": 10, "max_interval_seconds": 5}),
        _router(3, [_module(4)], retry={}),
    )
    assert _found(scenario) == {("flow[1].retry.max_interval_seconds", 2), ("flow[2].retry", 3)}


def test_validate_or_raise_reports_everything() -> None:
    scenario = _scenario(_module(2, "builtin:Ignore"), _module(2, mapper={"x": "{{9.y}}"}))
    with pytest.raises(ScenarioValidationError) as excinfo:
        validate_or_raise(scenario)
    assert len(excinfo.value.issues) == 3


def test_blueprint_fixture_round_trips_through_json() -> None:
    scenario = load_scenario_file(FIXTURES / "make" / "orders-router.blueprint.json")
    again = scenario_from_data(json.loads(scenario.model_dump_json()))
    assert again == scenario
