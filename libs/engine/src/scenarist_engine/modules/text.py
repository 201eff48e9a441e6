"""Make's Text parser app (`regexp`): match pattern, replace, HTML to text, elements from HTML.

Patterns are ECMAScript, as in Make, translated by `scenarist_engine.iml.regexes` and run on the
`regex` module with the expression limits' timeout: a catastrophic pattern fails the module
with a DataError instead of holding up the state machine. All four are pure, so they run inline.
"""

from __future__ import annotations

from typing import Any

from scenarist_engine.errors import ErrorType, ExpressionLimitError, ModuleError
from scenarist_engine.iml import regexes
from scenarist_engine.iml.values import to_text, truthy
from scenarist_engine.modules.base import Bundle, ModuleCall, ModuleKind, ModuleOutput, Role
from scenarist_engine.modules.html_text import ELEMENT_TYPES, html_elements, html_to_text
from scenarist_engine.modules.registry import register

MAX_TEXT = 16_000_000
MAX_MATCHES = 10_000
_ELEMENT_ALIASES = {"image": "images", "link": "links", "iframe": "iframes"}


def _option(call: ModuleCall, name: str, default: bool) -> bool:
    value = call.inputs.get(name, call.module.parameters.get(name))
    return default if value is None or value == "" else truthy(value)


def _flags(call: ModuleCall) -> str:
    """JavaScript flags from Make's checkboxes (case sensitive is on unless unchecked)."""
    flags = "g" if _option(call, "global", False) else ""
    if not _option(call, "sensitive", True):
        flags += "i"
    if _option(call, "multiline", False):
        flags += "m"
    if _option(call, "singleline", False):
        flags += "s"
    return flags


def _text(call: ModuleCall, name: str) -> str:
    text = to_text(call.inputs.get(name))
    if len(text) > MAX_TEXT:
        raise ModuleError(f"{name} is longer than {MAX_TEXT} characters", ErrorType.DATA)
    return text


def _pattern(call: ModuleCall) -> str:
    pattern = to_text(call.inputs.get("pattern"))
    if not pattern:
        raise ModuleError("pattern is empty", ErrorType.DATA)
    return pattern


def _match_bundle(match: Any, index: int) -> Bundle:
    bundle: Bundle = {"i": index, "$0": match.group(0)}
    for number in range(1, match.re.groups + 1):
        bundle[f"${number}"] = match.group(number)
    for name, number in match.re.groupindex.items():
        bundle[name] = match.group(number)
    bundle["fallbackMatch"] = False
    return bundle


def _matches(compiled: Any, text: str, pattern: str, every: bool, timeout: float) -> list[Any]:
    found: list[Any] = []
    try:
        for match in compiled.finditer(text, timeout=timeout):
            found.append(match)
            if not every:
                break
            if len(found) > MAX_MATCHES:
                raise ModuleError(f"more than {MAX_MATCHES} matches", ErrorType.DATA)
    except TimeoutError as exc:
        raise ExpressionLimitError(
            f"regular expression /{pattern}/ took too long (catastrophic backtracking?)"
        ) from exc
    return found


def _match_pattern(call: ModuleCall) -> ModuleOutput:
    """One bundle per match ($0 the whole match, $1..$n the groups, named groups by name)."""
    pattern, flags = _pattern(call), _flags(call)
    compiled = regexes.compile_pattern(pattern, flags.replace("g", ""))
    timeout = call.context.limits.regex_timeout_seconds
    found = _matches(compiled, _text(call, "text"), pattern, "g" in flags, timeout)
    if found:
        return ModuleOutput(bundles=[_match_bundle(m, i) for i, m in enumerate(found, 1)])
    # Without "continue if no match" the route stops here, as an iterator over nothing does.
    if _option(call, "continueWhenNoRes", False):
        return ModuleOutput(bundles=[{"i": 0, "fallbackMatch": True}])
    return ModuleOutput(bundles=[])


def _replace(call: ModuleCall) -> ModuleOutput:
    limits = call.context.limits
    text = regexes.sub(
        _pattern(call),
        _flags(call),
        to_text(call.inputs.get("value")),
        _text(call, "text"),
        timeout=limits.regex_timeout_seconds,
        max_length=MAX_TEXT,
    )
    return ModuleOutput(bundles=[{"text": text}])


def _html_to_text(call: ModuleCall) -> ModuleOutput:
    return ModuleOutput(bundles=[{"text": html_to_text(_text(call, "html"))}])


def _elements(call: ModuleCall) -> ModuleOutput:
    raw = to_text(call.inputs.get("type", call.module.parameters.get("type")) or "images")
    kind = _ELEMENT_ALIASES.get(raw.lower(), raw.lower())
    if kind not in ELEMENT_TYPES:
        allowed = ", ".join(ELEMENT_TYPES)
        raise ModuleError(f"unknown element type {raw!r}: use {allowed}", ErrorType.DATA)
    found = html_elements(_text(call, "html"), kind)
    return ModuleOutput(bundles=[{"i": i, "element": url} for i, url in enumerate(found, 1)])


for _kind in (
    ModuleKind("regexp:Parser", Role.ACTION, _match_pattern, True, "Match pattern"),
    ModuleKind("regexp:Replace", Role.ACTION, _replace, True, "Replace"),
    ModuleKind("regexp:HTMLToText", Role.ACTION, _html_to_text, True, "HTML to text"),
    ModuleKind(
        "regexp:GetElementsFromHTML", Role.ACTION, _elements, True, "Get elements from HTML"
    ),
):
    register(_kind)
