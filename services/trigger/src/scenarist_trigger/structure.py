"""A webhook's data structure: Make-style field specs the incoming bundle must match.

The structure is a JSON list of Field-shaped objects ``{name, type, required, multiple,
fields}`` (types as in connector fields: text, number, integer, boolean, date, email, url,
select, array, collection, buffer, json, any). Extra fields are allowed, as in Make. A
``buffer`` field only accepts an uploaded file: a look-alike object from JSON is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_FIELDS = 500
MAX_SPEC_DEPTH = 16


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "any"
    required: bool = False
    multiple: bool = False
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)


class StructureError(ValueError):
    """The data structure definition itself is invalid (refused when the webhook is saved)."""


def parse_structure(raw: Any, level: int = 1) -> tuple[FieldSpec, ...]:
    if raw in (None, "", []):
        return ()
    if level > MAX_SPEC_DEPTH:
        raise StructureError(f"data structure nested deeper than {MAX_SPEC_DEPTH}")
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise StructureError(f"data structure must be a list of at most {MAX_FIELDS} fields")
    specs = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise StructureError("every field needs a non-empty string 'name'")
        specs.append(
            FieldSpec(
                name=item["name"],
                type=str(item.get("type") or "any"),
                required=bool(item.get("required", False)),
                multiple=bool(item.get("multiple", False)),
                fields=parse_structure(item.get("fields") or item.get("spec"), level + 1),
            )
        )
    return tuple(specs)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, str) and value.strip().lstrip("+-").isdigit()


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
    "select": lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
    "number": _is_number,
    "integer": _is_integer,
    "uinteger": lambda v: _is_integer(v) and float(v) >= 0,
    "boolean": lambda v: isinstance(v, bool) or v in ("true", "false", "1", "0"),
    "date": _is_date,
    "email": lambda v: isinstance(v, str) and "@" in v.strip("@"),
    "url": lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
}


def validate(
    specs: tuple[FieldSpec, ...], data: Mapping[str, Any], uploads: Mapping[str, Any]
) -> list[str]:
    """Every mismatch, as readable reasons (empty: the bundle matches)."""
    errors: list[str] = []
    for spec in specs:
        _check_field(spec, data, spec.name, errors, uploads)
    return errors[:50]


def _check_field(
    spec: FieldSpec,
    data: Mapping[str, Any],
    path: str,
    errors: list[str],
    uploads: Mapping[str, Any] | None,
) -> None:
    value = data.get(spec.name)
    if value is None or value == "":
        if spec.required:
            errors.append(f"{path}: is required")
        return
    if spec.type == "buffer":
        if uploads is None or uploads.get(spec.name) is not value:
            errors.append(f"{path}: must be an uploaded file (multipart/form-data)")
        return
    if spec.multiple:
        if not isinstance(value, list):
            errors.append(f"{path}: must be a list")
            return
        for index, item in enumerate(value):
            _check_value(spec, item, f"{path}[{index + 1}]", errors)
        return
    _check_value(spec, value, path, errors)


def _check_value(spec: FieldSpec, value: Any, path: str, errors: list[str]) -> None:
    kind = spec.type
    if kind == "collection":
        if not isinstance(value, dict):
            errors.append(f"{path}: must be an object")
            return
        for child in spec.fields:
            _check_field(child, value, f"{path}.{child.name}", errors, None)
        return
    if kind == "array":
        if not isinstance(value, list):
            errors.append(f"{path}: must be a list")
            return
        for index, item in enumerate(value):
            if spec.fields and not isinstance(item, dict):
                errors.append(f"{path}[{index + 1}]: must be an object")
                continue
            for child in spec.fields:
                _check_field(child, item, f"{path}[{index + 1}].{child.name}", errors, None)
        return
    check = _SCALAR_CHECKS.get(kind)
    if check is not None and not check(value):
        errors.append(f"{path}: must be a {kind}")
