"""IML functions that search and cut text: contains, indexOf, length, replace, split, substring.

contains, indexOf and length also accept arrays (length also buffers) and dispatch on the
type of their first argument, so each name is registered once.
"""

from __future__ import annotations

from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml import regexes
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import (
    builtin,
    check_array_size,
    int_arg,
    same_value,
    text_arg,
)
from scenarist_engine.iml.values import to_text

CATEGORY = "text"


@builtin(
    "contains",
    min_args=2,
    max_args=2,
    signature="contains(text|array; value)",
    category=CATEGORY,
)
def contains(ctx: EvalContext, haystack: Any, needle: Any) -> bool:
    """Whether text contains a substring (case-sensitive), or an array contains a value."""
    if haystack is None:
        return False
    if isinstance(haystack, list):
        return any(same_value(item, needle) for item in haystack)
    if isinstance(haystack, dict):
        raise ExpressionError("contains(): first argument must be text or an array")
    return text_arg(needle, "contains", "search value") in to_text(haystack)


def _clamp(index: int, length: int) -> int:
    return max(0, min(index, length))


@builtin(
    "indexOf",
    min_args=2,
    max_args=3,
    signature="indexOf(string; value; [start])",
    category=CATEGORY,
)
def index_of(ctx: EvalContext, haystack: Any, needle: Any, start: Any = None) -> int:
    """0-based position of the first occurrence at or after start, or -1 if there is none."""
    offset = 0 if start is None else int_arg(start, "indexOf", "start")
    if isinstance(haystack, list):
        if offset < 0:
            offset += len(haystack)  # as Array.prototype.indexOf: negative counts from the end
        offset = _clamp(offset, len(haystack))
        for index in range(offset, len(haystack)):
            if same_value(haystack[index], needle):
                return index
        return -1
    text = text_arg(haystack, "indexOf")
    return text.find(text_arg(needle, "indexOf", "search value"), _clamp(offset, len(text)))


@builtin("length", min_args=1, max_args=1, signature="length(text|array|buffer)", category=CATEGORY)
def length(ctx: EvalContext, value: Any) -> int:
    """Characters in text, items in an array, keys in a collection or bytes in a buffer."""
    if value is None:
        return 0
    if isinstance(value, str | list | dict | bytes | bytearray):
        return len(value)
    return len(to_text(value))


@builtin(
    "replace",
    min_args=3,
    max_args=3,
    signature="replace(text; search; replacement)",
    category=CATEGORY,
)
def replace(ctx: EvalContext, value: Any, search: Any, replacement: Any) -> str:
    """Text with every occurrence of search replaced; a /regex/flags search allows $& and $n."""
    text = text_arg(value, "replace")
    substitute = text_arg(replacement, "replace", "replacement")
    literal = regexes.parse_regex_literal(search) if isinstance(search, str) else None
    if literal is not None:
        pattern, flags = literal
        return regexes.sub(
            pattern,
            flags,
            substitute,
            text,
            timeout=ctx.limits.regex_timeout_seconds,
            max_length=ctx.limits.max_text_length,
        )
    needle = text_arg(search, "replace", "search value")
    if needle == "":
        return text  # nothing to find; JavaScript would insert between every character
    count = text.count(needle)
    if len(text) + count * (len(substitute) - len(needle)) > ctx.limits.max_text_length:
        raise ExpressionLimitError(
            f"replace(): result is longer than {ctx.limits.max_text_length} characters"
        )
    # The replacement is literal for a plain search: "$&" only means something in a regex.
    return text.replace(needle, substitute)


@builtin("split", min_args=2, max_args=2, signature="split(text; separator)", category=CATEGORY)
def split(ctx: EvalContext, value: Any, separator: Any) -> list[str]:
    """Text cut into an array at every separator; an empty separator splits characters."""
    text = text_arg(value, "split")
    if text == "":
        return []  # an unmapped field gives no items rather than one empty item
    if separator is None:
        return [text]
    delimiter = text_arg(separator, "split", "separator")
    parts = len(text) if delimiter == "" else text.count(delimiter) + 1
    check_array_size(ctx, parts, "split")
    return list(text) if delimiter == "" else text.split(delimiter)


@builtin(
    "substring",
    min_args=2,
    max_args=3,
    signature="substring(text; start; end)",
    category=CATEGORY,
)
def substring(ctx: EvalContext, value: Any, start: Any, end: Any = None) -> str:
    """Characters from start up to (not including) end, 0-based, like JavaScript's substring.

    Negative indexes count as 0 and start > end swaps them.
    """
    text = text_arg(value, "substring")
    begin = _clamp(int_arg(start, "substring", "start"), len(text))
    stop = len(text) if end is None else _clamp(int_arg(end, "substring", "end"), len(text))
    if begin > stop:
        begin, stop = stop, begin
    return text[begin:stop]
