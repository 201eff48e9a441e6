from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from scenarist_engine.model.blueprint import from_make_blueprint, looks_like_make_blueprint
from scenarist_engine.model.loading import scenario_from_data

FIXTURE = Path(__file__).parents[3] / "fixtures" / "make" / "orders-router.blueprint.json"


@pytest.fixture
def blueprint() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_fixture_is_recognised_as_make(blueprint: dict[str, Any]) -> None:
    assert looks_like_make_blueprint(blueprint)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "n", "settings": {}, "flow": [], "metadata": {"scenario": {}}},
        {"name": "n", "flow": []},
        {"name": "n", "flow": [], "metadata": {"owner": "ops"}},
        [],
    ],
)
def test_native_documents_are_not_make(data: Any) -> None:
    assert not looks_like_make_blueprint(data)


def test_settings_come_from_metadata_scenario(blueprint: dict[str, Any]) -> None:
    document = from_make_blueprint(blueprint)
    assert document["settings"] == {
        "roundtrips": 1,
        "maxErrors": 3,
        "autoCommit": True,
        "sequential": False,
        "confidential": False,
        "dlq": True,
    }
    # Keys we do not model are kept, not dropped.
    assert document["metadata"]["scenario"] == {
        "autoCommitTriggerLast": True,
        "slots": None,
        "dataloss": False,
        "freshVariables": False,
    }
    assert document["metadata"]["instant"] is True
    assert document["metadata"]["zone"] == "eu1.make.com"
    assert document["metadata"]["designer"] == {"orphans": []}


def test_input_is_not_modified(blueprint: dict[str, Any]) -> None:
    before = copy.deepcopy(blueprint)
    from_make_blueprint(blueprint)
    assert blueprint == before


def test_full_import(blueprint: dict[str, Any]) -> None:
    scenario = scenario_from_data(blueprint)
    assert scenario.name == "Order intake: route by value, aggregate SKUs"
    assert scenario.settings.store_incomplete is True
    assert scenario.settings.max_errors == 3
    assert [module.id for module in scenario.walk()] == [1, 2, 3, 4, 5, 6, 7]
    feeder, aggregator, router = scenario.flow[1:]
    assert feeder.label == "Each line item"
    assert feeder.metadata["designer"]["x"] == 300
    assert aggregator.parameters["feeder"] == 2
    assert aggregator.flags == {"groupBy": "{{2.category}}", "stopIfEmpty": False}
    assert router.mapper == {}
    assert len(router.routes) == 2
    http = router.routes[0].flow[0]
    assert http.label == "Notify fulfilment"
    assert http.filter is not None
    assert http.filter.name == "Big orders"
    assert [len(group) for group in http.filter.conditions] == [2, 1]
    assert http.filter.conditions[0][1].b is None
    assert [module.module for module in http.onerror] == ["builtin:Resume"]
    assert http.metadata["designer"]["name"] == "Notify fulfilment"
    assert scenario.trigger.metadata["restore"]["parameters"]["hook"]["label"] == "Orders"


def test_designer_name_does_not_override_label() -> None:
    data = {
        "name": "n",
        "flow": [
            {"id": 1, "module": "x:Y", "label": "mine", "metadata": {"designer": {"name": "d"}}}
        ],
        "metadata": {"instant": False},
    }
    assert from_make_blueprint(data)["flow"][0]["label"] == "mine"


def test_subflows_module_export_is_normalised() -> None:
    data = {"subflows": [{"flow": [{"id": 1, "module": "x:Y", "parameters": None}]}]}
    assert looks_like_make_blueprint(data)
    document = from_make_blueprint(data)
    assert document["flow"] == [{"id": 1, "module": "x:Y"}]
    assert document["name"] == "Imported Make scenario"
    assert "settings" not in document or document["settings"] == {}
    assert scenario_from_data(data).flow[0].parameters == {}


def test_unknown_make_keys_are_left_for_validation() -> None:
    data = {
        "name": "n",
        "flow": [{"id": 1, "module": "builtin:BasicIfElse", "branches": []}],
        "metadata": {"instant": False, "scenario": {"roundtrips": 2}},
    }
    document = from_make_blueprint(data)
    assert document["flow"][0]["branches"] == []
    assert document["settings"] == {"roundtrips": 2}
    assert "metadata" in document and "scenario" not in document["metadata"]


def test_non_object_scenario_metadata_is_kept() -> None:
    data = {"name": "n", "flow": [], "metadata": {"instant": True, "scenario": "odd"}}
    document = from_make_blueprint(data)
    assert document["settings"] == {}
    assert document["metadata"]["scenario"] == "odd"
