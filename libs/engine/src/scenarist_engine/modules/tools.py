"""Make's Tools app: variables, increment, compose a string, switch, sleep, text encoding."""

from __future__ import annotations

import base64
import codecs
from typing import Any

from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import loose_equal, to_number, to_text, truthy
from scenarist_engine.modules.base import ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.modules.registry import register

MAX_SLEEP_SECONDS = 300
_SCOPES = {"roundtrip": "cycle", "cycle": "cycle", "execution": "execution", "run": "execution"}


def _scope(call: ModuleCall) -> str:
    raw = str(call.inputs.get("scope") or call.module.parameters.get("scope") or "roundtrip")
    scope = _SCOPES.get(raw)
    if scope is None:
        raise ModuleError(f"unknown variable scope {raw!r}", ErrorType.DATA)
    return scope


def _variable_name(value: Any) -> str:
    name = to_text(value)
    if not name:
        raise ModuleError("variable name is empty", ErrorType.DATA)
    return name


def _set_variable(call: ModuleCall) -> ModuleOutput:
    name = _variable_name(call.inputs.get("name"))
    value = call.inputs.get("value")
    return ModuleOutput(
        bundles=[{name: value}], set_variables={name: value}, variable_scope=_scope(call)
    )


def _set_variables(call: ModuleCall) -> ModuleOutput:
    entries = call.inputs.get("variables") or []
    if not isinstance(entries, list):
        raise ModuleError("variables must be a list of {name, value}", ErrorType.DATA)
    values: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ModuleError("variables must be a list of {name, value}", ErrorType.DATA)
        values[_variable_name(entry.get("name"))] = entry.get("value")
    return ModuleOutput(bundles=[dict(values)], set_variables=values, variable_scope=_scope(call))


def _get_variable(call: ModuleCall) -> ModuleOutput:
    name = _variable_name(call.inputs.get("name"))
    return ModuleOutput(bundles=[{name: call.variables.get(name)}])


def _get_variables(call: ModuleCall) -> ModuleOutput:
    entries = call.inputs.get("variables") or []
    if not isinstance(entries, list):
        raise ModuleError("variables must be a list of {name}", ErrorType.DATA)
    names = [_variable_name(e.get("name") if isinstance(e, dict) else e) for e in entries]
    return ModuleOutput(bundles=[{name: call.variables.get(name) for name in names}])


_INCREMENT_RESET = {"run": "cycle", "execution": "execution", "scenario": "scenario"}


def _increment(call: ModuleCall) -> ModuleOutput:
    reset = str(call.module.parameters.get("reset") or call.inputs.get("reset") or "run")
    if reset not in _INCREMENT_RESET:
        raise ModuleError(
            f"unknown reset {reset!r}: use run, execution or scenario", ErrorType.DATA
        )
    key = f"__increment__{call.module.id}"
    if _INCREMENT_RESET[reset] == "scenario":
        value = int(call.persistent.get(key, 0)) + 1
        return ModuleOutput(bundles=[{"i": value}], set_persistent={key: value})
    value = int(call.variables.get(key, 0)) + 1
    return ModuleOutput(
        bundles=[{"i": value}],
        set_variables={key: value},
        variable_scope=_INCREMENT_RESET[reset],
    )


def _compose(call: ModuleCall) -> ModuleOutput:
    return ModuleOutput(bundles=[{"value": to_text(call.inputs.get("value"))}])


def _switch(call: ModuleCall) -> ModuleOutput:
    subject = call.inputs.get("input")
    cases = call.inputs.get("casesTable") or call.inputs.get("cases") or []
    if not isinstance(cases, list):
        raise ModuleError("cases must be a list of {pattern, output}", ErrorType.DATA)
    for case in cases:
        if isinstance(case, dict) and loose_equal(subject, case.get("pattern")):
            return ModuleOutput(bundles=[{"output": case.get("output")}])
    return ModuleOutput(bundles=[{"output": call.inputs.get("elseOutput")}])


def _sleep(call: ModuleCall) -> ModuleOutput:
    seconds = to_number(call.inputs.get("duration", 0), what="duration")
    if not 0 <= seconds <= MAX_SLEEP_SECONDS:
        raise ModuleError(f"duration must be 0..{MAX_SLEEP_SECONDS} seconds", ErrorType.DATA)
    return ModuleOutput(bundles=[{}], delay_seconds=float(seconds))


def _codec(call: ModuleCall, name: str, default: str) -> str:
    raw = to_text(call.inputs.get(name)) or default
    try:
        return codecs.lookup(raw.strip()).name
    except LookupError:
        raise ModuleError(f"unknown text encoding {raw!r}", ErrorType.DATA) from None


def _convert_encoding(call: ModuleCall) -> ModuleOutput:
    """Text re-encoded: a buffer input is read in `inputEncoding`, text is taken as it is; the
    result is a buffer, carried in the bundle as base64 (bundles are JSON) and as text."""
    value = call.inputs.get("text", call.inputs.get("data"))
    source, target = _codec(call, "inputEncoding", "utf-8"), _codec(call, "outputEncoding", "utf-8")
    # Characters the target cannot encode fail the module unless "replace" asks for "?".
    errors = "replace" if truthy(call.inputs.get("replace")) else "strict"
    try:
        text = (
            bytes(value).decode(source) if isinstance(value, bytes | bytearray) else to_text(value)
        )
        data = text.encode(target, errors=errors)
    except (UnicodeError, LookupError) as exc:  # LookupError: a codec that is not text (rot13)
        raise ModuleError(
            f"cannot convert from {source} to {target}: {exc}", ErrorType.DATA
        ) from exc
    return ModuleOutput(
        bundles=[{"data": base64.b64encode(data).decode("ascii"), "encoding": target}]
    )


for _kind in (
    ModuleKind(
        "util:SetVariable2", Role.ACTION, _set_variable, True, "Set variable", ("util:SetVariable",)
    ),
    ModuleKind("util:SetVariables", Role.ACTION, _set_variables, True, "Set multiple variables"),
    ModuleKind(
        "util:GetVariable2", Role.ACTION, _get_variable, True, "Get variable", ("util:GetVariable",)
    ),
    ModuleKind("util:GetVariables", Role.ACTION, _get_variables, True, "Get multiple variables"),
    ModuleKind("util:FunctionIncrement", Role.ACTION, _increment, True, "Increment function"),
    ModuleKind("util:ComposeTransformer", Role.ACTION, _compose, True, "Compose a string"),
    ModuleKind("util:Switcher", Role.ACTION, _switch, True, "Switch"),
    ModuleKind(
        "util:ConvertTextEncoding", Role.ACTION, _convert_encoding, True, "Convert text encoding"
    ),
    # Sleep waits, so it goes to an executor instead of holding up the state machine.
    ModuleKind("util:FunctionSleep", Role.ACTION, _sleep, False, "Sleep"),
):
    register(_kind)
