"""Golden scenarios under tests/fixtures/scenarios, each run through the in-process runner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import to_number
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.model.validate import validate_or_raise
from scenarist_engine.modules import BUILTIN_KINDS, ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.runner import VirtualClock, run_scenario

FIXTURES = Path(__file__).parents[3] / "fixtures" / "scenarios"


def _flaky(call: ModuleCall) -> ModuleOutput:
    if call.attempt < to_number(call.inputs["succeed_on"]):
        raise ModuleError("connection reset", ErrorType.CONNECTION)
    return ModuleOutput(bundles=[{"attempt": call.attempt}])


TEST_KINDS = {"test:Flaky": ModuleKind("test:Flaky", Role.ACTION, _flaky)}


def _variant(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    scenario = copy.deepcopy(base)
    for module in scenario["flow"]:
        if module["id"] == 3 and "onerror_of_3" in change:
            module["onerror"] = change["onerror_of_3"]
    scenario["settings"] = {**scenario.get("settings", {}), **change.get("settings", {})}
    return scenario


def _cases() -> list[Any]:
    params = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        variants = {"": {"cases": document["cases"]}, **document.get("variants", {})}
        for variant_name, variant in variants.items():
            scenario = _variant(document["scenario"], variant)
            for case in variant["cases"]:
                case_id = f"{path.stem}{'/' + variant_name if variant_name else ''}: {case['name']}"
                params.append(pytest.param(scenario, case, id=case_id))
    return params


def _outputs(result: dict[str, Any]) -> dict[int, list[Any]]:
    return {
        module["id"]: [b for run in module["runs"] if run["output"] for b in run["output"]]
        for module in result["modules"]
    }


def _check(result: dict[str, Any], expect: dict[str, Any], clock: VirtualClock) -> None:
    assert result["status"] == expect["status"], result["error"]
    if "operations" in expect:
        assert result["operations"] == expect["operations"]
    if "cycles" in expect:
        assert result["cycles"] == expect["cycles"]
    if "order" in expect:
        ran = [m["id"] for m in result["modules"] if m["operations"]]
        assert ran == expect["order"]
    outputs = _outputs(result)
    for module_id, bundles in expect.get("outputs", {}).items():
        assert outputs.get(int(module_id), []) == bundles, f"module {module_id}"
    for module_id, types in expect.get("errors", {}).items():
        module = next(m for m in result["modules"] if m["id"] == int(module_id))
        assert [r["error"]["type"] for r in module["runs"] if r["error"]] == types
    if "incomplete" in expect:
        assert len(result["incomplete"]) == expect["incomplete"]
    if "error_type" in expect:
        assert result["error"]["type"] == expect["error_type"]
    if "slept" in expect:
        assert clock.slept == expect["slept"]
    if "response" in expect:
        assert result["response"] == expect["response"]


@pytest.mark.parametrize(("document", "case"), _cases())
def test_golden_scenario(document: dict[str, Any], case: dict[str, Any]) -> None:
    scenario = validate_or_raise(
        scenario_from_data(document), known_modules={*BUILTIN_KINDS, *TEST_KINDS}
    )
    clock = VirtualClock()
    run = run_scenario(scenario, case["trigger"], clock=clock, external=TEST_KINDS, run_id="r1")
    _check(run.result(), case["expect"], clock)
