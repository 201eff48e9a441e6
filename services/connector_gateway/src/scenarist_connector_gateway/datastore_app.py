"""The ``datastore`` app's modules, run by the gateway itself (gateway-native).

Connectors never touch our Postgres, so Make's data store modules cannot be a connector
package: their specs live in ``scenarist_connectors.datastore_spec`` (names and fields only,
readable by the orchestrator) and this module registers the handlers for them in the gateway
runtime's registry. From there they are ordinary app modules: listed by ListApps/ListModules,
run by ExecuteModule through ``ModuleRunner`` (inputs checked against the spec, typed errors,
metrics), with the run's organization from ``RunInfo``.

Errors, as the engine sees them:

- a data store id that is malformed, missing or of another organization:
  InvalidConfigurationError (the same message either way, so ids of other organizations cannot
  be probed);
- a record that breaks the record structure: DataError naming every field path
  (``data.age: must be a number``); a store over its size or record limit: DataError; an
  existing key on AddRecord without ``overwrite``: DataError;
- UpdateRecord of a missing key without ``insert``: NotFoundError;
- GetRecord of a missing key is not an error: one empty bundle, as Make's Get a record outputs
  an empty bundle and lets the flow go on (map a field and filter on ``exist``, or use
  ExistRecord);
- Postgres unreachable: ConnectionError, so the engine's retry applies.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from scenarist.connector.v1.data_store_pb2 import Condition, ConditionGroup, RecordFilter
from scenarist_connector_sdk import ActionContext, Bundle, Connector, errors
from scenarist_connectors.datastore_spec import APP, MAX_SEARCH_RESULTS, MODULES
from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.values import to_text
from scenarist_storage.errors import LimitExceededError, NotFoundError
from scenarist_storage.gateway_models import DataRecord, DataStoreInfo, JsonObject, RecordChange
from scenarist_storage.ports import DataStoreStore

from scenarist_connector_gateway.record_filter import Search, parse_search
from scenarist_connector_gateway.record_values import fit_record
from scenarist_connector_gateway.structure import FieldSpec, from_json, validate_record

MAX_KEY_LENGTH = 256  # as DataStoreService's


@dataclass(frozen=True)
class _Scope:
    org_id: uuid.UUID
    info: DataStoreInfo
    structure: tuple[FieldSpec, ...]

    @property
    def store_id(self) -> uuid.UUID:
        return self.info.id


@contextlib.contextmanager
def _storage_errors(store_id: uuid.UUID) -> Iterator[None]:
    try:
        yield
    except NotFoundError:  # deleted since we read it
        raise errors.ConfigurationError(f"data store {store_id} not found") from None
    except LimitExceededError as exc:
        raise errors.InvalidInputError(f"data store {store_id}: {exc}") from None
    except OSError as exc:
        raise errors.ConnectionError(f"data stores unavailable: {exc}") from None


def _key(inputs: Mapping[str, Any], *, generate: bool = False) -> str:
    value = inputs.get("key")
    if (value is None or value == "") and generate:
        return uuid.uuid4().hex  # Make generates a key when the mapper leaves it empty
    key = to_text(value)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise errors.InvalidInputError(f"key: must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def _checked(data: JsonObject, structure: Sequence[FieldSpec]) -> JsonObject:
    violations = validate_record(data, structure)
    if violations:
        found = "; ".join(f"{path}: {problem}" for path, problem in violations)
        raise errors.InvalidInputError(f"the record does not fit the record structure: {found}")
    return data


def _wrapped(record: DataRecord) -> Bundle:
    return {"key": record.key, "data": record.data}


class DataStoreModules:
    """The handlers, bound to the gateway's data store repository."""

    def __init__(self, store: DataStoreStore, *, max_records: int) -> None:
        self._store = store
        self._max_records = max_records

    async def _scope(self, ctx: ActionContext, inputs: Mapping[str, Any]) -> _Scope:
        raw = to_text(inputs.get("datastore"))
        try:
            org_id = uuid.UUID(ctx.run.organization_id)
            store_id = uuid.UUID(raw)
        except ValueError:
            raise errors.ConfigurationError(f"datastore: {raw!r} is not a data store id") from None
        with _storage_errors(store_id):
            info = await self._store.get_data_store(org_id, store_id)
        if info is None:
            raise errors.ConfigurationError(f"data store {store_id} not found")
        return _Scope(org_id, info, from_json(info.fields))

    async def _write(self, scope: _Scope, key: str, change: RecordChange) -> DataRecord:
        with _storage_errors(scope.store_id):
            record, _ = await self._store.write_record(
                scope.org_id, scope.store_id, key, change, max_records=self._max_records
            )
        return record

    async def add_record(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        key = _key(inputs, generate=True)
        data = _checked(fit_record(inputs.get("data") or {}, scope.structure), scope.structure)
        overwrite = bool(inputs.get("overwrite"))

        def put(current: JsonObject | None) -> JsonObject:
            if current is not None and not overwrite:
                raise errors.InvalidInputError(
                    f"a record with key {key!r} already exists; enable overwrite to replace it"
                )
            return data

        return [_wrapped(await self._write(scope, key, put))]

    async def update_record(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        key = _key(inputs)
        patch = fit_record(inputs.get("data") or {}, scope.structure)
        insert = bool(inputs.get("insert"))

        def merge(current: JsonObject | None) -> JsonObject:
            if current is None and not insert:
                raise errors.NotFoundError(f"no record with key {key!r} (enable insert to add it)")
            return _checked({**(current or {}), **patch}, scope.structure)

        return [_wrapped(await self._write(scope, key, merge))]

    async def _get(self, scope: _Scope, key: str) -> DataRecord | None:
        with _storage_errors(scope.store_id):
            return await self._store.get_record(scope.org_id, scope.store_id, key)

    async def get_record(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        record = await self._get(scope, _key(inputs))
        if record is None:
            return [{}]
        return [_wrapped(record) if inputs.get("returnWrapped") else dict(record.data)]

    async def exist_record(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        return [{"exist": await self._get(scope, _key(inputs)) is not None}]

    async def delete_record(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        key = _key(inputs)
        with _storage_errors(scope.store_id):
            deleted = await self._store.delete_record(scope.org_id, scope.store_id, key)
        return [{"key": key, "deleted": deleted}]

    async def _records(self, scope: _Scope) -> list[DataRecord]:
        with _storage_errors(scope.store_id):
            return await self._store.all_records(scope.org_id, scope.store_id)

    async def search_records(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        search = _search(inputs.get("filter"), _order(inputs.get("sort")), scope.structure)
        records = await self._records(scope)
        try:
            found, _ = search.run(records, _limit(inputs.get("limit")), None)
        except ExpressionError as exc:
            raise errors.InvalidInputError(f"filter: {exc}") from None
        return [_wrapped(record) for record in found]

    async def count_records(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        search = _search(inputs.get("filter"), "", scope.structure)
        records = await self._records(scope)
        try:
            count = sum(1 for record in records if search.matches(record))
        except ExpressionError as exc:
            raise errors.InvalidInputError(f"filter: {exc}") from None
        return [{"count": count}]

    async def delete_all_records(self, ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
        scope = await self._scope(ctx, inputs)
        with _storage_errors(scope.store_id):
            deleted = await self._store.delete_all_records(scope.org_id, scope.store_id)
        return [{"deleted": deleted}]


def _limit(asked: Any) -> int:
    if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0:
        return min(asked, MAX_SEARCH_RESULTS)
    return MAX_SEARCH_RESULTS


def _order(sort: Any) -> str:
    if not isinstance(sort, Mapping):
        return ""
    field = to_text(sort.get("field")) or "key"
    return f"{field} desc" if to_text(sort.get("order")).lower() == "desc" else field


def _groups(raw: Any) -> list[list[Any]]:
    """Make's OR-groups of AND-conditions; a flat list of conditions is one AND-group."""
    if not raw:
        return []
    if isinstance(raw, list) and all(isinstance(item, Mapping) for item in raw):
        return [raw]
    if isinstance(raw, list) and all(isinstance(group, list) for group in raw):
        return raw
    raise errors.ConfigurationError("filter: must be OR-groups of AND-conditions [[{a, o, b}]]")


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("a"), str):
        raise errors.ConfigurationError(f"{where}: must be {{a, o, b}} with a field name in a")
    value = raw.get("b")
    text = "" if value is None else orjson.dumps(value, default=str).decode()
    return Condition(field=raw["a"], operator=to_text(raw.get("o")), value=text)


_PROTO_PATH = re.compile(r"groups\[(\d+)\]\.conditions\[(\d+)\]\.?(\w*)")
_OPERANDS = {"field": "a", "operator": "o", "value": "b"}


def _make_path(path: str) -> str:
    """The proto's path of a problem as the mapper writes it: filter[1][2].o (1-based)."""

    def spell(match: re.Match[str]) -> str:
        operand = _OPERANDS.get(match[3], match[3])
        return f"[{int(match[1]) + 1}][{int(match[2]) + 1}]" + (f".{operand}" if operand else "")

    return _PROTO_PATH.sub(spell, path).replace("filter.[", "filter[").replace("order_by", "sort")


def _search(raw_filter: Any, order: str, structure: Sequence[FieldSpec]) -> Search:
    groups = [
        ConditionGroup(
            conditions=[_condition(c, f"filter[{g}][{n}]") for n, c in enumerate(group, 1)]
        )
        for g, group in enumerate(_groups(raw_filter), 1)
    ]
    search, problems = parse_search(RecordFilter(groups=groups), order, structure)
    if search is None:
        found = "; ".join(f"{_make_path(path)}: {problem}" for path, problem in problems)
        raise errors.ConfigurationError(f"invalid search: {found}")
    return search


def datastore_connector(store: DataStoreStore, *, max_records: int) -> Connector:
    """The ``datastore`` app with its handlers, for the gateway runtime's registry."""
    modules = DataStoreModules(store, max_records=max_records)
    handlers = {
        "AddRecord": modules.add_record,
        "UpdateRecord": modules.update_record,
        "GetRecord": modules.get_record,
        "ExistRecord": modules.exist_record,
        "DeleteRecord": modules.delete_record,
        "SearchRecords": modules.search_records,
        "CountRecords": modules.count_records,
        "DeleteAllRecords": modules.delete_all_records,
    }
    connector = Connector(APP)
    for spec in MODULES:
        connector.module(spec)(handlers[spec.name])
    return connector
