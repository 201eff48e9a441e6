"""A data store's record structure (Make's "data structure") and record validation against it.

Pure functions: problems come back as (field path, description) violations, the shape of
google.rpc.BadRequest, so one request reports every problem at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scenarist.connector.v1.field_pb2 import Field

FIELD_TYPES = frozenset({"text", "number", "boolean", "date", "array", "collection"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_DEPTH = 4

Violation = tuple[str, str]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    label: str = ""
    fields: tuple[FieldSpec, ...] = ()  # keys of a collection, or the item shape of an array

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "label": self.label,
            "fields": [child.as_json() for child in self.fields],
        }

    def as_message(self) -> Field:
        return Field(
            name=self.name,
            label=self.label,
            type=self.type,
            required=self.required,
            fields=[child.as_message() for child in self.fields],
        )


def from_json(items: Iterable[Mapping[str, Any]]) -> tuple[FieldSpec, ...]:
    """The structure as stored by the gateway (see FieldSpec.as_json)."""
    return tuple(
        FieldSpec(
            name=str(item["name"]),
            type=str(item["type"]),
            required=bool(item.get("required", False)),
            label=str(item.get("label", "")),
            fields=from_json(item.get("fields", ())),
        )
        for item in items
    )


def parse_fields(
    messages: Sequence[Field], path: str = "fields", depth: int = 1
) -> tuple[tuple[FieldSpec, ...], list[Violation]]:
    """The structure from CreateDataStoreRequest.fields, or the violations that refuse it."""
    specs: list[FieldSpec] = []
    problems: list[Violation] = []
    seen: set[str] = set()
    for index, message in enumerate(messages):
        at = f"{path}[{index}]"
        if not _NAME.match(message.name):
            problems.append((f"{at}.name", "must be a letter or _ then letters, digits or _"))
        elif message.name in seen:
            problems.append((f"{at}.name", f"duplicate field name {message.name!r}"))
        seen.add(message.name)
        if message.type not in FIELD_TYPES:
            problems.append((f"{at}.type", f"must be one of {', '.join(sorted(FIELD_TYPES))}"))
        if message.fields and message.type not in ("array", "collection"):
            problems.append((f"{at}.fields", "only array and collection fields have children"))
        if depth >= MAX_DEPTH and message.fields:
            problems.append((f"{at}.fields", f"structures nest at most {MAX_DEPTH} levels"))
            continue
        children, child_problems = parse_fields(message.fields, f"{at}.fields", depth + 1)
        problems += child_problems
        specs.append(
            FieldSpec(message.name, message.type, message.required, message.label, children)
        )
    return tuple(specs), problems


def validate_record(data: Mapping[str, Any], structure: Sequence[FieldSpec]) -> list[Violation]:
    """Every way `data` breaks the structure, as violations on `data.<path>`."""
    return _validate_object(data, structure, "data")


def _validate_object(
    data: Mapping[str, Any], structure: Sequence[FieldSpec], path: str
) -> list[Violation]:
    problems: list[Violation] = []
    known = {spec.name: spec for spec in structure}
    for name in data:
        if name not in known:
            problems.append((f"{path}.{name}", "is not a field of this data store"))
    for spec in structure:
        value = data.get(spec.name)
        if value is None:
            if spec.required:
                problems.append((f"{path}.{spec.name}", "is required"))
            continue
        problems += _validate_value(value, spec, f"{path}.{spec.name}")
    return problems


def _validate_value(value: Any, spec: FieldSpec, path: str) -> list[Violation]:
    if spec.type == "collection":
        if not isinstance(value, dict):
            return [(path, "must be an object (collection)")]
        return _validate_object(value, spec.fields, path) if spec.fields else []
    if spec.type == "array":
        if not isinstance(value, list):
            return [(path, "must be an array")]
        if not spec.fields:
            return []
        item = FieldSpec(spec.name, "collection", fields=spec.fields)
        # Paths are 1-based like the expression language's arrays.
        return [p for n, v in enumerate(value, 1) for p in _validate_value(v, item, f"{path}[{n}]")]
    problem = _scalar_problem(value, spec.type)
    return [(path, problem)] if problem else []


def _scalar_problem(value: Any, kind: str) -> str | None:
    if kind == "text":
        return None if isinstance(value, str) else "must be text"
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "must be a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        return None if _is_date(value) else "must be an ISO 8601 date or date-time text"
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
