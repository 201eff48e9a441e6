"""Mapped values made to fit a data store's record structure before it is validated.

Scenario mappings often carry numbers and booleans as text (a webhook's form fields, a CSV
row), and Make converts them into the structure's types when a module writes a record. What
cannot be read as the field's type is left alone, so ``validate_record`` reports it with the
field's path. Empty values (null, "") are left out: on an update they keep the stored value,
as in Make, where an empty field of the mapper does not change the record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from scenarist_engine.iml.values import to_text
from scenarist_storage.gateway_models import JsonObject

from scenarist_connector_gateway.structure import FieldSpec

_BOOLEANS = {"true": True, "false": False}


def fit_record(data: Mapping[str, Any], structure: Sequence[FieldSpec]) -> JsonObject:
    """`data` with empty values dropped and text converted where the structure says so."""
    known = {spec.name: spec for spec in structure}
    fitted: JsonObject = {}
    for name, value in data.items():
        if value is None or value == "":
            continue
        spec = known.get(name)
        # An unknown field is kept: the validator names it instead of it vanishing silently.
        fitted[name] = _fit(value, spec) if spec is not None else value
    return fitted


def _fit(value: Any, spec: FieldSpec) -> Any:
    if spec.type == "number" and isinstance(value, str):
        return _number(value)
    if spec.type == "boolean" and isinstance(value, str):
        return _BOOLEANS.get(value.strip().lower(), value)
    if spec.type == "text" and isinstance(value, int | float):
        return to_text(value)
    if spec.type == "collection" and isinstance(value, Mapping) and spec.fields:
        return fit_record(value, spec.fields)
    if spec.type == "array" and isinstance(value, list) and spec.fields:
        return [fit_record(v, spec.fields) if isinstance(v, Mapping) else v for v in value]
    return value


def _number(text: str) -> Any:
    stripped = text.strip()
    if stripped.lstrip("+-").isdigit():
        return int(stripped)
    try:
        number = float(stripped)
    except ValueError:
        return text
    return number if math.isfinite(number) else text
