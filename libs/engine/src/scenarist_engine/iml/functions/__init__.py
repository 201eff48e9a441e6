"""IML's built-in functions. Importing this package registers every one of them."""

from __future__ import annotations

from scenarist_engine.iml.functions import (  # noqa: F401 - imported to register
    array,
    array_items,
    binary,
    dates,
    general,
    math,
    text,
    text_search,
)
from scenarist_engine.iml.functions.registry import FUNCTIONS, FunctionSpec, lookup

__all__ = ["FUNCTIONS", "FunctionSpec", "lookup"]
