"""Decoding a big JSON body (a claim-checked trigger) at the lowest peak.

orjson builds its whole document tree before the Python objects: for a 10 MB body of small
records that is ~6x the body at once, on top of the objects it returns (~3.5x, which the run
needs). The stdlib decoder builds the objects directly from the text, so its peak is the text
plus the objects; it is slower (~1.7x), which a body this size can afford.

The result matches `orjson.loads` (what every smaller body goes through): integers beyond 64
bits become floats, and NaN or Infinity is refused.
"""

from __future__ import annotations

import json
from typing import Any

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1
_SHORT_INTEGER = 18  # decimal digits that always fit 64 bits


def _integer(text: str) -> int | float:
    if len(text) <= _SHORT_INTEGER:
        return int(text)
    if len(text) <= 2 * _SHORT_INTEGER + 4:  # int() refuses very long digit strings itself
        value = int(text)
        if _I64_MIN <= value <= _U64_MAX:
            return value
    return float(text)


def _constant(text: str) -> None:
    raise ValueError(f"{text} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_integer, parse_constant=_constant)


def loads(text: str) -> Any:
    """The value of `text`; ValueError when it is not JSON."""
    return _DECODER.decode(text)
