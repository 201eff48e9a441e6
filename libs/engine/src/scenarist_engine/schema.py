"""The published JSON Schema of the native scenario document, generated from the models.

The canonical property names are the Python field names (`max_cycles`). The models also accept
Make's blueprint keys (`roundtrips`) as aliases, so the schema lists those too, marked as
aliases, and forbids giving both spellings of one setting, exactly as validation does.

Usage: `python -m scenarist_engine.schema OUT.json` writes the schema;
`python -m scenarist_engine.schema --check OUT.json` exits 1 when OUT.json is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from scenarist_engine.model.scenario import (
    Condition,
    Filter,
    Module,
    RetryPolicy,
    Route,
    Scenario,
    ScenarioSettings,
)

SCHEMA_ID = "https://scenarist.dev/schemas/scenario.schema.json"
_MODELS: tuple[type[BaseModel], ...] = (
    Condition,
    Filter,
    Module,
    RetryPolicy,
    Route,
    Scenario,
    ScenarioSettings,
)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a native scenario document."""
    schema = Scenario.model_json_schema(by_alias=False, mode="validation")
    definitions = schema.get("$defs", {})
    for model in _MODELS:
        target = schema if model is Scenario else definitions.get(model.__name__)
        if target is not None:
            _add_aliases(model, target)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def _add_aliases(model: type[BaseModel], schema: dict[str, Any]) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    exclusive: list[dict[str, Any]] = []
    for name, info in model.model_fields.items():
        alias = info.alias
        if alias is None or alias == name or name not in properties:
            continue
        properties[alias] = {
            **properties[name],
            "description": f"Make blueprint key; alias of `{name}` (give only one of them)",
        }
        exclusive.append({"not": {"required": [name, alias]}})
    if exclusive:
        schema["allOf"] = [*schema.get("allOf", []), *exclusive]


def render() -> str:
    """The schema as committed: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [arg for arg in args if arg != "--check"]
    if len(paths) != 1:
        sys.stderr.write("usage: python -m scenarist_engine.schema [--check] OUT.json\n")
        return 2
    out = Path(paths[0])
    text = render()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current != text:
            sys.stderr.write(f"{out} is stale: run `make schema`\n")
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
