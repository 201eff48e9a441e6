"""Between PostgreSQL values and bundle values (JSON-friendly), and quoting of identifiers."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from scenarist_connector_sdk import errors

__all__ = ["from_text", "quote_ident", "quote_table", "to_bundle_value"]


def quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise errors.InvalidInputError(f"invalid identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_table(name: str) -> str:
    """``table`` or ``schema.table``, each part quoted (so any characters are safe)."""
    parts = name.split(".")
    if len(parts) > 2:
        raise errors.InvalidInputError(f"table {name!r} is not 'table' or 'schema.table'")
    return ".".join(quote_ident(part) for part in parts)


def to_bundle_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [to_bundle_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): to_bundle_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


_INTEGERS = {"int2", "int4", "int8", "oid", "smallint", "integer", "bigint"}
_FLOATS = {"float4", "float8"}


def from_text(type_name: str, text: str) -> Any:
    """A cursor (text) as the Python value asyncpg expects for a column of ``type_name``."""
    try:
        if type_name in _INTEGERS:
            return int(text)
        if type_name in _FLOATS:
            return float(text)
        if type_name == "numeric":
            return decimal.Decimal(text)
        if type_name in ("timestamp", "timestamptz"):
            return dt.datetime.fromisoformat(text)
        if type_name == "date":
            return dt.date.fromisoformat(text)
        if type_name == "uuid":
            return uuid.UUID(text)
    except (ValueError, decimal.InvalidOperation) as exc:
        raise errors.InvalidInputError(f"cursor {text!r} is not a {type_name}") from exc
    return text
