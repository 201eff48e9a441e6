"""JSON parse and create: text in, bundles out, and back."""

from __future__ import annotations

import json
from typing import Any

from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import to_json_compatible, to_text
from scenarist_engine.modules.base import ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.modules.registry import register

MAX_JSON_TEXT = 16_000_000
MAX_JSON_DEPTH = 200


def _parse_json(call: ModuleCall) -> ModuleOutput:
    text = to_text(call.inputs.get("json"))
    if len(text) > MAX_JSON_TEXT:
        raise ModuleError("JSON text is larger than 16 MB", ErrorType.DATA)
    try:
        # NaN and Infinity are not JSON (JavaScript's JSON.parse, which Make uses, refuses them).
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ModuleError(f"invalid JSON: {exc}", ErrorType.DATA) from exc
    _check_depth(value)
    # An array of collections becomes one bundle per item, as in Make.
    if isinstance(value, list):
        return ModuleOutput(bundles=[_as_bundle(item) for item in value])
    return ModuleOutput(bundles=[_as_bundle(value)])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _as_bundle(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ModuleError(f"JSON nested deeper than {MAX_JSON_DEPTH}", ErrorType.DATA)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _create_json(call: ModuleCall) -> ModuleOutput:
    data = call.inputs["data"] if "data" in call.inputs else dict(call.inputs)
    text = json.dumps(to_json_compatible(data), ensure_ascii=False, separators=(",", ":"))
    return ModuleOutput(bundles=[{"json": text}])


register(ModuleKind("json:ParseJSON", Role.ACTION, _parse_json, True, "Parse JSON"))
register(
    ModuleKind(
        "json:CreateJSON", Role.ACTION, _create_json, True, "Create JSON", ("json:TransformToJSON",)
    )
)
