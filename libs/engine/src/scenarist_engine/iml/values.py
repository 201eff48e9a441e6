"""Make's value model: how IML converts between text, numbers, booleans, dates and arrays.

Every function and operator converts through these helpers, so a coercion rule lives in one
place. Values are plain JSON-like Python data: None, bool, int, float, str, list, dict, plus
datetime and bytes (binary data).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from scenarist_engine.errors import ExpressionError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def type_name(value: Any) -> str:
    """Make's name for a value's type, used in error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "collection"
    if isinstance(value, datetime):
        return "date"
    if isinstance(value, bytes | bytearray):
        return "buffer"
    return "unknown"


def format_number(value: float | int) -> str:
    """Render a number the way JavaScript does (1.0 -> "1", 0.1+0.2 -> "0.30000000000000004")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text and abs(value) >= 1e-6 and abs(value) < 1e21:
        # Python switches to exponent notation earlier than JavaScript (1e-05 vs 0.00001).
        return _positional(text)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def _positional(shortest: str) -> str:
    """Write a repr in exponent form ("1.5e-05") positionally ("0.000015")."""
    mantissa, exponent = shortest.split("e")
    negative = mantissa.startswith("-")
    whole, _, fraction = mantissa.lstrip("-").partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent)
    if point <= 0:
        body = "0." + "0" * -point + digits
    elif point >= len(digits):
        body = digits + "0" * (point - len(digits))
    else:
        body = digits[:point] + "." + digits[point:]
    return ("-" if negative else "") + body


def to_text(value: Any) -> str:
    """Text form of any value: null is "", arrays join with ", ", collections become JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, list):
        return ", ".join(to_text(item) for item in value)
    return json.dumps(to_json_compatible(value), ensure_ascii=False, separators=(",", ":"))


def iso_datetime(value: datetime) -> str:
    """ISO 8601 with milliseconds and Z for UTC, like JavaScript's Date.toISOString()."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    utc = aware.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_json_compatible(value: Any) -> Any:
    """Dates become ISO text and buffers text, so a value can be serialized as JSON.

    Copy on write: a list or dict with nothing to convert inside is returned itself, not a
    copy. Module results pass through here, and a 10 MB array mapped from the trigger into a
    variable would otherwise be copied for the inputs, the output and the variable. Callers
    treat the result as read-only, as every bundle is."""
    kind = type(value)
    # Exact JSON types first: they are nearly every node, and isinstance chains per node showed
    # in the webhook path's profile (a module's inputs, output and variables are walked).
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return _compatible_dict(value)
    if kind is list:
        return _compatible_list(value)
    if isinstance(value, list):
        return _compatible_list(value)
    if isinstance(value, dict):
        return _compatible_dict(value)
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _compatible_list(value: list[Any]) -> list[Any]:
    copied: list[Any] | None = None
    for index, item in enumerate(value):
        converted = to_json_compatible(item)
        if copied is not None:
            copied.append(converted)
        elif converted is not item:
            copied = value[:index]
            copied.append(converted)
    return value if copied is None else copied


def _compatible_dict(value: dict[Any, Any]) -> dict[str, Any]:
    copied: dict[str, Any] | None = None
    for index, (key, item) in enumerate(value.items()):
        converted = to_json_compatible(item)
        if copied is None and (converted is not item or type(key) is not str):
            copied = dict(islice(value.items(), index))  # the keys so far are all text
        if copied is not None:
            copied[str(key)] = converted
    return value if copied is None else copied


# JavaScript's Number() grammar for decimal text; Python's int()/float() would also accept
# "1_000", "inf" and "nan", which Make treats as text.
_NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INFINITY_TEXT = {"Infinity": math.inf, "+Infinity": math.inf, "-Infinity": -math.inf}
# Integers above 2**53 are not exact in JavaScript either; float() also avoids int()'s
# quadratic cost and digit limit on very long digit strings.
_MAX_EXACT_DIGITS = 15


def to_number_or_none(value: Any) -> float | int | None:
    """A number if the value reads as one ("42", " 4.5 ", true), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _text_to_number(value)
    if isinstance(value, datetime):
        return epoch_milliseconds(value)
    return None


def _text_to_number(value: str) -> float | int | None:
    text = value.strip()
    if not text or len(text) > 400:
        return _INFINITY_TEXT.get(text)
    if not _NUMERIC_TEXT.fullmatch(text):
        return _INFINITY_TEXT.get(text)
    digits = text.lstrip("+-")
    if digits.isdigit() and len(digits) <= _MAX_EXACT_DIGITS:
        return int(text)
    return normalize_number(float(text))


def epoch_milliseconds(value: datetime) -> int:
    """Milliseconds since 1970 (JavaScript's Date.getTime()); naive datetimes count as UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(milliseconds=1)


def to_number(value: Any, *, what: str = "value") -> float | int:
    """A number, or an ExpressionError naming what could not be read as one."""
    number = to_number_or_none(value)
    if number is None:
        raise ExpressionError(f"{what} {to_text(value)!r} is not a valid number")
    return number


def normalize_number(value: float | int) -> float | int:
    """Integral floats become ints so 2.0 prints and compares as 2."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def is_empty(value: Any) -> bool:
    """Make's emptiness for ifempty and 'exists': only null and "" are empty."""
    return value is None or value == ""


def truthy(value: Any) -> bool:
    """Truthiness for if() and and/or: JavaScript's rules on JSON-like values."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != "" and value.lower() != "false"
    return True


def loose_equal(left: Any, right: Any) -> bool:
    """Make's `=`: numbers compare numerically across text ("1" = 1), otherwise by text."""
    if left is None or right is None:
        return (left is None or left == "") and (right is None or right == "")
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    left_number, right_number = to_number_or_none(left), to_number_or_none(right)
    if (isinstance(left, int | float) or isinstance(right, int | float)) and (
        left_number is not None and right_number is not None
    ):
        return left_number == right_number
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return bool(to_json_compatible(left) == to_json_compatible(right))
    return to_text(left) == to_text(right)


class Directive(str):
    """`ignore` / `erase`: text "" to every function, recognised by mapping evaluation.

    A str subclass so a directive passing through functions (ifempty(1.x; ignore)) behaves as
    empty text everywhere, yet a field whose whole value is a directive can be told apart.
    """

    directive: str

    def __new__(cls, directive: str) -> Directive:
        instance = super().__new__(cls, "")
        instance.directive = directive
        return instance

    def __repr__(self) -> str:
        return self.directive.upper()

    def __reduce__(self) -> tuple[Any, ...]:
        return (Directive, (self.directive,))


IGNORE = Directive("ignore")
"""The field is left out of the module's input, as if it had not been mapped."""
ERASE = Directive("erase")
"""The field is sent as null, clearing it in the target system."""


def is_ignore(value: Any) -> bool:
    return isinstance(value, Directive) and value.directive == "ignore"


def is_erase(value: Any) -> bool:
    return isinstance(value, Directive) and value.directive == "erase"
