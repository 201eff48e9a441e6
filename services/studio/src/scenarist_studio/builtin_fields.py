"""Field schemas for the engine's built-in modules, used when the catalogue carries none.

The gateway lists built-in modules without field schemas today; the builder still needs forms
for them, so the studio fills in what the engine reads (scenarist_engine.modules). Fields with
`"in": "parameters"` go to the module's `parameters`, the rest to its `mapper`. A catalogue that
does declare fields always wins.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BUILTIN_FIELDS", "with_builtin_fields"]


def _f(name: str, label: str, type_: str = "text", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": type_,
        "required": False,
        "options": [],
        "help": "",
        "default": None,
        "fields": [],
        "multiple": False,
    }
    found.update(extra)
    return found


def _select(name: str, label: str, values: list[str], **extra: Any) -> dict[str, Any]:
    options = [{"value": v, "label": v} for v in values]
    return _f(name, label, "select", options=options, **extra)


_SCOPE = _select("scope", "Variable lifetime", ["roundtrip", "execution"], default="roundtrip")
_KEY_VALUE = [_f("name", "Variable name", required=True), _f("value", "Variable value", "any")]
_ERROR_SETTINGS = [
    _f("retry", "Retry automatically", "boolean", default=True),
    _f("count", "Number of attempts", "integer", default=3),
    _f("interval", "Interval between attempts (minutes)", "number", default=15),
]

BUILTIN_FIELDS: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    "util:SetVariables": (
        [_f("variables", "Variables", "array", fields=_KEY_VALUE, required=True), _SCOPE],
        [],
    ),
    "util:SetVariable2": (
        [_f("name", "Variable name", required=True), _f("value", "Variable value", "any"), _SCOPE],
        [],
    ),
    "util:GetVariable2": ([_f("name", "Variable name", required=True)], [_f("value", "Value")]),
    "util:GetVariables": (
        [_f("variables", "Variables", "array", fields=[_f("name", "Variable name")])],
        [],
    ),
    "util:FunctionIncrement": (
        [_select("reset", "Reset a value", ["run", "never"], **{"in": "parameters"})],
        [_f("i", "Value", "number")],
    ),
    "util:ComposeTransformer": ([_f("value", "Text", required=True)], [_f("value", "Text")]),
    "util:Switcher": (
        [
            _f("input", "Input", "any", required=True),
            _f(
                "cases", "Cases", "array", fields=[_f("pattern", "Pattern"), _f("output", "Output")]
            ),
            _f("elseOutput", "Else", "any"),
        ],
        [_f("output", "Output", "any")],
    ),
    "util:FunctionSleep": ([_f("duration", "Delay (seconds)", "number", required=True)], []),
    "gateway:WebhookRespond": (
        [
            _f("status", "Status", "integer", default="200", required=True),
            _f("body", "Body", "any"),
            _f(
                "headers",
                "Custom headers",
                "array",
                fields=[_f("key", "Key"), _f("value", "Value")],
            ),
        ],
        [],
    ),
    "json:ParseJSON": ([_f("json", "JSON string", required=True)], []),
    "json:CreateJSON": ([_f("data", "Data", "json", required=True)], [_f("json", "JSON string")]),
    "builtin:BasicFeeder": ([_f("array", "Array", "array", required=True)], [_f("value", "Value")]),
    "builtin:BasicRepeater": (
        [
            _f("start", "Initial value", "number", default=1),
            _f("repeats", "Repeats", "integer", required=True),
            _f("step", "Step", "number", default=1),
        ],
        [_f("i", "i", "number")],
    ),
    "builtin:BasicAggregator": (
        [_f("feeder", "Source module", "integer", required=True, **{"in": "parameters"})],
        [_f("array", "Array", "array")],
    ),
    "util:TextAggregator": (
        [
            _f("feeder", "Source module", "integer", required=True, **{"in": "parameters"}),
            _f("value", "Text"),
        ],
        [_f("text", "Text")],
    ),
    "builtin:Resume": ([], []),
    "builtin:Break": (_ERROR_SETTINGS, []),
}


def with_builtin_fields(module: dict[str, Any]) -> dict[str, Any]:
    hints = BUILTIN_FIELDS.get(module["id"])
    if hints is None:
        return module
    inputs, outputs = hints
    return {
        **module,
        "inputs": module["inputs"] or inputs,
        "outputs": module["outputs"] or outputs,
    }
