"""App modules of installed connectors validate and plan like built-in kinds."""

from __future__ import annotations

import json

import pytest
from scenarist_connector_sdk import AppSpec, Connector, Registry
from scenarist_engine.errors import ScenarioValidationError
from scenarist_engine.machine import Plan
from scenarist_engine.model.loading import load_scenario_text
from scenarist_engine.modules import Role
from scenarist_orchestrator.api.scenarios import parse_document
from scenarist_orchestrator.app_modules import app_kinds, kinds_from, known_modules

DOCUMENT = {
    "name": "fetch",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {
            "id": 2,
            "module": "http:MakeRequest",
            "parameters": {"connection": "c1"},
            "mapper": {"url": "https://example.com/{{1.id}}"},
        },
    ],
}


def test_installed_app_modules_are_known() -> None:
    names = known_modules()
    assert {"http:MakeRequest", "util:SetVariable2"} <= names
    assert app_kinds()["http:MakeRequest"].role is Role.ACTION


def test_documents_with_app_modules_validate_and_unknown_ones_do_not() -> None:
    assert parse_document(json.dumps(DOCUMENT)).flow[1].module == "http:MakeRequest"
    broken = {**DOCUMENT, "flow": [DOCUMENT["flow"][0], {"id": 2, "module": "http:Nope"}]}
    with pytest.raises(ScenarioValidationError, match="http:Nope"):
        parse_document(json.dumps(broken))


def test_plans_treat_app_modules_as_tasks() -> None:
    plan = Plan.build(load_scenario_text(json.dumps(DOCUMENT)), dict(app_kinds()))
    kind = plan.kinds[2]
    assert kind.role is Role.ACTION and not kind.inline and kind.run is None


def test_built_in_kinds_win_over_an_app_of_the_same_name() -> None:
    clash = Connector(AppSpec("json", "1.0.0"))

    @clash.action("ParseJSON")
    async def parse(ctx: object, inputs: dict[str, object]) -> list[dict[str, object]]:
        return []

    @clash.search("Find")
    async def find(ctx: object, inputs: dict[str, object]) -> list[dict[str, object]]:
        return []

    kinds = kinds_from(Registry([clash]))
    assert set(kinds) == {"json:Find"} and kinds["json:Find"].role is Role.ACTION
