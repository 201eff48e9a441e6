"""Checking a big JSON body without keeping what it decodes to.

A webhook body that goes to the claim store unchanged only has to be valid JSON within the
depth limit: building it (orjson needs ~6x the body at its peak, the finished objects alone
~3.5x for small records) just to learn that would cost more than everything else the trigger
does with it. The stdlib decoder calls `object_pairs_hook` as each object closes, so every
object is dropped as soon as it is read and replaced by a marker of its depth; only the arrays
still open keep their elements (numbers and objects as shared markers) until their enclosing
object closes.

It accepts what `orjson.loads` accepts, which the orchestrator's decoding relies on: UTF-8
only, no BOM, no NaN or Infinity, no number that is infinite as a double. Unpaired surrogate
escapes are orjson's call: a body with any escape in the surrogate range is checked by orjson.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from scenarist_trigger.parsers import bad_body, parse_json

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
# Decimal digits beyond which an integer may not fit a double (orjson turns big ones into one).
_LONG_INTEGER = 300


class _Depth:
    """A closed object, reduced to the depth of its subtree."""

    __slots__ = ("levels",)

    def __init__(self, levels: int) -> None:
        self.levels = levels


class _TooDeepError(ValueError):
    pass


def check_json(body: bytes, max_depth: int) -> None:
    """Raise the malformed-body Problem `parse_json` would raise for `body`; keep nothing."""
    if _SURROGATE_ESCAPE.search(body):
        parse_json(body, max_depth)  # rare (emoji escapes): orjson's surrogate rules decide
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_body("invalid JSON: the body is not valid UTF-8") from None
    checker = _Checker(max_depth)
    try:
        value = checker.decoder.decode(text)
    except _TooDeepError:
        raise bad_body(f"JSON nesting deeper than {max_depth} levels") from None
    except RecursionError:  # the C scanner's own limit, far above any sensible max_depth
        raise bad_body(f"JSON nesting deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise bad_body(f"invalid JSON: {exc}") from None
    del text
    if _levels(value) > max_depth:
        raise bad_body(f"JSON nesting deeper than {max_depth} levels")


class _Checker:
    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        self._markers: dict[int, _Depth] = {}
        self.decoder = json.JSONDecoder(
            object_pairs_hook=self._closed,
            parse_float=_float,
            parse_int=_integer,
            parse_constant=_constant,
        )

    def _closed(self, pairs: list[tuple[str, Any]]) -> _Depth:
        inner = 0
        for _, value in pairs:  # scalars dominate: only markers and arrays have depth
            if isinstance(value, (_Depth, list)):
                inner = max(inner, _levels(value))
        levels = inner + 1
        if levels > self._max_depth:
            raise _TooDeepError
        marker = self._markers.get(levels)
        if marker is None:
            marker = self._markers[levels] = _Depth(levels)
        return marker


def _levels(value: Any) -> int:
    """Nesting depth of a decoded value whose objects are markers (iterative: arrays can nest
    as deep as the scanner allows)."""
    if isinstance(value, _Depth):
        return value.levels
    if not isinstance(value, list):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, _Depth):
            deepest = max(deepest, level - 1 + node.levels)
        elif isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def _float(text: str) -> None:
    if not math.isfinite(float(text)):
        raise ValueError(f"number is infinity when parsed as double: {text[:40]}")


def _integer(text: str) -> None:
    if len(text) > _LONG_INTEGER:
        _float(text)


def _constant(text: str) -> None:
    raise ValueError(f"unexpected character, expected a JSON value: {text}")
