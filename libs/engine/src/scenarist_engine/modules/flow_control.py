"""Triggers, router, iterator, repeater, webhook response and the error directives."""

from __future__ import annotations

import re
from typing import Any

from scenarist_engine.errors import ErrorType, ModuleError
from scenarist_engine.iml.values import to_number, to_text
from scenarist_engine.modules.base import ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.modules.registry import register

MAX_REPEATS = 10_000

for _name, _title in (
    ("gateway:CustomWebHook", "Custom webhook"),
    ("scenarist:Manual", "Run on demand (manual or API)"),
    ("scenarist:Schedule", "Run on a schedule"),
    ("util:BasicTrigger", "Basic trigger"),
):
    register(ModuleKind(_name, Role.TRIGGER, title=_title))

register(ModuleKind("builtin:BasicRouter", Role.ROUTER, title="Router"))

DIRECTIVES = (
    "builtin:Resume",
    "builtin:Ignore",
    "builtin:Break",
    "builtin:Commit",
    "builtin:Rollback",
)
for _name in DIRECTIVES:
    register(ModuleKind(_name, Role.DIRECTIVE, title=_name.split(":")[1]))


def _iterate(call: ModuleCall) -> ModuleOutput:
    array = call.inputs.get("array")
    if array is None:
        return ModuleOutput()
    if not isinstance(array, list):
        raise ModuleError("iterator input 'array' must be an array", ErrorType.DATA)
    total = len(array)
    bundles = [_iterated_bundle(item, index, total) for index, item in enumerate(array, start=1)]
    return ModuleOutput(bundles=bundles)


def _iterated_bundle(item: Any, index: int, total: int) -> dict[str, Any]:
    # Collections spread into the bundle as Make does; other values appear as `value`.
    bundle: dict[str, Any] = dict(item) if isinstance(item, dict) else {"value": item}
    bundle["__IMTINDEX__"] = index
    bundle["__IMTLENGTH__"] = total
    return bundle


def _repeat(call: ModuleCall) -> ModuleOutput:
    start = to_number(call.inputs.get("start", 1), what="start")
    repeats = int(to_number(call.inputs.get("repeats", 1), what="repeats"))
    step = to_number(call.inputs.get("step", 1), what="step")
    if not 0 <= repeats <= MAX_REPEATS:
        raise ModuleError(f"repeats must be between 0 and {MAX_REPEATS}", ErrorType.DATA)
    return ModuleOutput(bundles=[{"i": start + step * n} for n in range(repeats)])


# RFC 9110 field-name: a token. Anything else (spaces, colons, CR/LF) could split the response.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")


def _respond(call: ModuleCall) -> ModuleOutput:
    status = call.inputs.get("status", "200")
    number = to_number(status, what="status")
    # "201.5" is a typo, not 201: refuse it rather than answer with a status nobody chose.
    # The range test comes first so NaN and infinity never reach int().
    if not 100 <= number <= 599 or number != int(number):
        raise ModuleError(f"status {to_text(status)!r} is not an HTTP status", ErrorType.DATA)
    response = {
        "status": int(number),
        "headers": _headers(call.inputs.get("headers")),
        "body": call.inputs.get("body"),
    }
    return ModuleOutput(bundles=[{}], response=response)


def _headers(raw: Any) -> list[dict[str, Any]]:
    headers = raw or []
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and "key" in h for h in headers
    ):
        raise ModuleError("headers must be a list of {key, value}", ErrorType.DATA)
    checked = []
    for header in headers:
        key, value = to_text(header["key"]), header.get("value")
        if not _HEADER_NAME.fullmatch(key):
            raise ModuleError(f"header name {key!r} is not a valid HTTP name", ErrorType.DATA)
        if _HEADER_VALUE_FORBIDDEN.search(to_text(value)):
            raise ModuleError(f"header {key!r}: value contains CR, LF or NUL", ErrorType.DATA)
        checked.append({"key": key, "value": value})
    return checked


register(ModuleKind("builtin:BasicFeeder", Role.ACTION, _iterate, inline=True, title="Iterator"))
register(ModuleKind("builtin:BasicRepeater", Role.ACTION, _repeat, inline=True, title="Repeater"))
register(
    ModuleKind(
        "gateway:WebhookRespond", Role.ACTION, _respond, inline=True, title="Webhook response"
    )
)
