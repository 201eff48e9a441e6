from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenarist_engine.errors import ScenarioValidationError, ValidationIssue
from scenarist_engine.model.loading import (
    MAX_DOCUMENT_BYTES,
    MAX_YAML_ALIASES,
    format_path,
    load_scenario_file,
    load_scenario_text,
    module_id_at,
    scenario_from_data,
)

FIXTURES = Path(__file__).parents[3] / "fixtures"

NATIVE_YAML = """
name: Orders
settings:
  max_cycles: 2
  timezone: Europe/Prague
flow:
  - id: 1
    module: gateway:CustomWebHook
  - id: 2
    module: builtin:BasicRouter
    routes:
      - label: big
        flow:
          - id: 3
            module: util:SetVariable2
            filter:
              name: big
              conditions:
                - - {a: "{{1.amount}}", o: "number:greater", b: "100"}
            mapper: {name: kind, value: big}
      - fallback: true
        flow:
          - id: 4
            module: util:SetVariable2
            mapper: {name: kind, value: small}
"""


def _issues(excinfo: pytest.ExceptionInfo[ScenarioValidationError]) -> list[ValidationIssue]:
    return excinfo.value.issues


def _minimal(**extra: Any) -> dict[str, Any]:
    return {"name": "s", "flow": [{"id": 1, "module": "gateway:CustomWebHook"}], **extra}


def test_yaml_document_loads_with_routes_and_filters() -> None:
    scenario = load_scenario_text(NATIVE_YAML)
    assert scenario.settings.max_cycles == 2
    assert scenario.settings.timezone == "Europe/Prague"
    router = scenario.flow[1]
    assert [route.label for route in router.routes] == ["big", None]
    assert router.routes[1].fallback is True
    condition = router.routes[0].flow[0].filter.conditions[0][0]  # type: ignore[union-attr]
    assert (condition.a, condition.o, condition.b) == ("{{1.amount}}", "number:greater", "100")
    assert [module.id for module in scenario.walk()] == [1, 2, 3, 4]


def test_json_and_explicit_formats() -> None:
    text = json.dumps(_minimal())
    assert load_scenario_text(text).name == "s"
    assert load_scenario_text(text, fmt="json").name == "s"
    # JSON is YAML, so the YAML path reads it too.
    assert load_scenario_text(text, fmt="yaml").name == "s"


def test_settings_accept_make_aliases() -> None:
    scenario = scenario_from_data(_minimal(settings={"roundtrips": 4, "dlq": True}))
    assert scenario.settings.max_cycles == 4
    assert scenario.settings.store_incomplete is True


def test_every_structural_issue_is_reported_with_module_id_and_path() -> None:
    data = {
        "name": "s",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {
                "id": 7,
                "module": "builtin:BasicRouter",
                "routes": [
                    {"flow": [{"id": 8, "module": "x:Y", "mapper": "not a dict"}]},
                    {"flow": [{"id": 9, "module": "x:Y", "onerror": [{"id": 10, "version": 0}]}]},
                ],
            },
        ],
        "bogus": 1,
    }
    with pytest.raises(ScenarioValidationError) as excinfo:
        scenario_from_data(data)
    found = {(issue.path, issue.module_id) for issue in _issues(excinfo)}
    assert ("flow[1].routes[0].flow[0].mapper", 8) in found
    assert ("flow[1].routes[1].flow[0].onerror[0].module", 10) in found
    assert ("flow[1].routes[1].flow[0].onerror[0].version", 10) in found
    assert ("bogus", None) in found
    assert len(_issues(excinfo)) == 4
    assert "module 8: flow[1].routes[0].flow[0].mapper" in str(excinfo.value)


def test_missing_flow_and_name() -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        scenario_from_data({})
    assert {issue.path for issue in _issues(excinfo)} == {"name", "flow"}


def test_filter_condition_path() -> None:
    data = _minimal()
    data["flow"].append(
        {"id": 2, "module": "x:Y", "filter": {"conditions": [[{"a": "1"}]]}},
    )
    with pytest.raises(ScenarioValidationError) as excinfo:
        scenario_from_data(data)
    (issue,) = _issues(excinfo)
    assert issue.path == "flow[1].filter.conditions[0][0].o"
    assert issue.module_id == 2


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("flow", 1, "routes", 0, "flow", 0, "mapper"), "flow[1].routes[0].flow[0].mapper"),
        (("flow", 0, "mapper", "e-mail"), 'flow[0].mapper["e-mail"]'),
        ((), ""),
    ],
)
def test_format_path(loc: tuple[str | int, ...], expected: str) -> None:
    assert format_path(loc) == expected


def test_format_path_with_base() -> None:
    assert format_path(["mapper", "email"], "flow[2]") == "flow[2].mapper.email"


def test_module_id_at_ignores_ids_of_non_modules() -> None:
    data = {"flow": [{"id": 3, "mapper": {"flow": [{"id": 99}]}}]}
    assert module_id_at(data, ["flow", 0, "mapper"]) == 3
    assert module_id_at(data, ["flow", 5]) is None
    assert module_id_at(data, ["name"]) is None


def test_invalid_json_reports_position() -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text('{"name": ', fmt="json")
    assert "invalid JSON at line 1" in _issues(excinfo)[0].message


def test_invalid_yaml_reports_position() -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text("name: [unclosed\nflow: x\n", fmt="yaml")
    assert "invalid YAML at line" in _issues(excinfo)[0].message


def test_yaml_never_constructs_python_objects() -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text("name: !!python/object/apply:os.system ['true']\nflow: []\n")
    assert "invalid YAML" in _issues(excinfo)[0].message


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 13):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text("\n".join(lines))
    assert f"more than {MAX_YAML_ALIASES} aliases" in _issues(excinfo)[0].message


def test_few_aliases_are_fine_but_expansion_is_bounded() -> None:
    # Within the alias cap, the expanded document still has a node budget.
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text("\n".join(lines))
    assert "values" in _issues(excinfo)[0].message


def test_yaml_anchor_reuse_loads() -> None:
    text = """
name: s
flow:
  - id: 1
    module: gateway:CustomWebHook
    metadata: &meta {team: ops}
  - id: 2
    module: x:Y
    metadata: *meta
"""
    assert load_scenario_text(text).flow[1].metadata == {"team": "ops"}


def test_yaml_dates_stay_text() -> None:
    text = "name: s\nflow:\n  - id: 1\n    module: x:Y\n    mapper: {day: 2024-01-31}\n"
    assert load_scenario_text(text).flow[0].mapper == {"day": "2024-01-31"}


def test_oversized_document_is_refused() -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        load_scenario_text("#" * (MAX_DOCUMENT_BYTES + 1))
    assert "larger than" in _issues(excinfo)[0].message


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ScenarioValidationError):
        load_scenario_text("[" * 100_000 + "]" * 100_000, fmt="json")
    with pytest.raises(ScenarioValidationError) as excinfo:
        scenario_from_data(_minimal(metadata=_nested(300)))
    assert "nested deeper" in _issues(excinfo)[0].message


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(depth):
        node = {"x": node}
    return node


@pytest.mark.parametrize("data", [[1, 2], "text", None, 42])
def test_document_must_be_an_object(data: Any) -> None:
    with pytest.raises(ScenarioValidationError) as excinfo:
        scenario_from_data(data)
    assert _issues(excinfo)[0].message == "a scenario document must be an object"


def test_make_blueprint_is_detected_and_converted() -> None:
    scenario = load_scenario_file(FIXTURES / "make" / "orders-router.blueprint.json")
    assert scenario.settings.store_incomplete is True
    assert scenario.metadata["zone"] == "eu1.make.com"
    assert scenario.flow[3].module == "builtin:BasicRouter"
