from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenarist_engine.model.scenario import ScenarioSettings
from scenarist_engine.schema import main, render, scenario_schema

COMMITTED = Path(__file__).parents[4] / "schemas" / "scenario.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), "run `make schema`"


def test_render_format() -> None:
    text = render()
    assert text.endswith("}\n")
    assert text.startswith('{\n  "$defs"')  # sorted keys, two-space indent
    assert json.loads(text) == scenario_schema()


def test_schema_uses_field_names_and_lists_aliases() -> None:
    schema = scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["name", "flow"]
    settings = schema["$defs"]["ScenarioSettings"]
    properties = settings["properties"]
    for name, info in ScenarioSettings.model_fields.items():
        assert name in properties
        if info.alias is not None:
            assert info.alias in properties
            assert f"alias of `{name}`" in properties[info.alias]["description"]
            assert {"not": {"required": [name, info.alias]}} in settings["allOf"]
    assert settings["additionalProperties"] is False


def test_module_schema_is_strict() -> None:
    module = scenario_schema()["$defs"]["Module"]
    assert module["additionalProperties"] is False
    assert set(module["required"]) == {"id", "module"}
    assert module["properties"]["onerror"]["items"] == {"$ref": "#/$defs/Module"}


def test_check_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(COMMITTED)]) == 0
    assert main(["--check", str(COMMITTED.with_name("missing.schema.json"))]) == 1
    assert "stale" in capsys.readouterr().err
    assert main([]) == 2
