"""Searching a data store's records with the engine's filter operators, sorted and paged.

The operators are the engine's own (scenarist_engine.filters.OPERATOR_TABLE), so a condition
means the same on a data store search as on a scenario link. Records are filtered in the
gateway: the store's size limit bounds what one search reads, and it keeps one implementation of
the operator semantics instead of a second one in SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from scenarist.connector.v1.data_store_pb2 import RecordFilter
from scenarist_engine.filters import OPERATOR_TABLE
from scenarist_engine.iml.context import EvalContext
from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.gateway_models import DataRecord
from scenarist_storage.paging import decode_token, encode_token, token_int

from scenarist_connector_gateway.structure import FieldSpec, Violation

UNARY = frozenset({"exist", "notexist"})
KEY = "key"


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    operator: str
    value: Any
    where: str  # the request field path, for errors found while evaluating


@dataclass(frozen=True)
class Search:
    groups: tuple[tuple[Condition, ...], ...]
    order_path: tuple[str, ...]
    descending: bool
    digest: str  # ties page tokens to this filter and order

    def matches(self, record: DataRecord) -> bool:
        if not self.groups:
            return True
        context = EvalContext()
        return any(all(_holds(c, record, context) for c in group) for group in self.groups)

    def run(
        self, records: Sequence[DataRecord], page_size: int, page_token: str | None
    ) -> tuple[list[DataRecord], str | None]:
        found = sorted(
            (r for r in records if self.matches(r)),
            key=lambda r: (_sort_key(_read(r, self.order_path)), r.key),
            reverse=self.descending,
        )
        start = 0
        if page_token:
            offset, digest = decode_token("records", page_token, 2)
            if digest != self.digest:
                raise InvalidPageTokenError("page token belongs to another filter or order")
            start = token_int(offset)
        end = start + page_size
        token = encode_token("records", [end, self.digest]) if len(found) > end else None
        return found[start:end], token


def parse_search(
    message: RecordFilter | None, order_by: str, structure: Sequence[FieldSpec]
) -> tuple[Search | None, list[Violation]]:
    """The search a request describes, or the violations that refuse it."""
    problems: list[Violation] = []
    groups: list[tuple[Condition, ...]] = []
    for g, group in enumerate(message.groups if message is not None else ()):
        conditions: list[Condition] = []
        for c, cond in enumerate(group.conditions):
            where = f"filter.groups[{g}].conditions[{c}]"
            parsed = _condition(cond.field, cond.operator, cond.value, where, problems)
            if parsed is not None:
                conditions.append(parsed)
        groups.append(tuple(conditions))
    order_path, descending = _order(order_by, structure, problems)
    if problems:
        return None, problems
    digest_source = orjson.dumps(
        [message.SerializeToString().hex() if message is not None else "", order_by]
    )
    digest = hashlib.sha256(digest_source).hexdigest()[:16]
    return Search(tuple(groups), order_path, descending, digest), []


def _condition(
    field: str, operator: str, raw: str, where: str, problems: list[Violation]
) -> Condition | None:
    before = len(problems)
    if not field:
        problems.append((f"{where}.field", "required"))
    if operator not in OPERATOR_TABLE:
        problems.append((f"{where}.operator", f"unknown operator {operator!r}"))
    value: Any = None
    if raw and operator not in UNARY:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            problems.append((f"{where}.value", "must be JSON text (quote strings)"))
    if len(problems) > before:
        return None
    return Condition(tuple(field.split(".")), operator, value, where)


def _order(
    order_by: str, structure: Sequence[FieldSpec], problems: list[Violation]
) -> tuple[tuple[str, ...], bool]:
    words = order_by.split()
    if not words:
        return (KEY,), False
    descending = len(words) == 2 and words[1].lower() == "desc"
    known = {spec.name for spec in structure} | {KEY}
    if len(words) > 2 or (len(words) == 2 and not descending) or words[0] not in known:
        problems.append(("order_by", 'must be "key" or a field name, optionally followed by desc'))
    return (words[0],), descending


def _read(record: DataRecord, path: tuple[str, ...]) -> Any:
    if path == (KEY,):
        return record.key
    value: Any = record.data
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _holds(condition: Condition, record: DataRecord, context: EvalContext) -> bool:
    left = _read(record, condition.path)
    return OPERATOR_TABLE[condition.operator](left, condition.value, context)


def _sort_key(value: Any) -> tuple[int, Any]:
    # Mixed types sort by kind first (numbers, text, booleans, other), missing values last.
    if value is None:
        return (9, "")
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (3, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())
