"""DataStoreService: typed key-value tables that scenarios read and write across runs."""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson
from scenarist.connector.v1 import data_store_pb2 as model
from scenarist.connector.v1 import data_store_service_pb2 as pb
from scenarist.connector.v1 import data_store_service_pb2_grpc as pb_grpc
from scenarist_engine.errors import ExpressionError
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import Context, abort_invalid, page_size, parse_id, timestamp
from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.gateway_models import DataRecord, DataStoreInfo, JsonObject, RecordChange
from scenarist_storage.models import Role
from scenarist_storage.ports import DataStoreStore

from scenarist_connector_gateway.record_filter import Search, parse_search
from scenarist_connector_gateway.rpc import store_errors
from scenarist_connector_gateway.settings import GatewaySettings
from scenarist_connector_gateway.structure import (
    FieldSpec,
    Violation,
    from_json,
    parse_fields,
    validate_record,
)

STORES_PAGE = (50, 500)
RECORDS_PAGE = (50, 1000)
MAX_KEY_LENGTH = 256
# Builds the write's change from the store's structure (read before the write transaction).
ChangeFactory = Callable[[tuple[FieldSpec, ...]], RecordChange]


class InvalidRecordError(Exception):
    """Raised inside a write so the store rolls back; carries the violations for the caller."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("the record does not fit the data store's structure")
        self.violations = violations


def store_message(info: DataStoreInfo) -> model.DataStore:
    return model.DataStore(
        id=str(info.id),
        organization_id=str(info.org_id),
        name=info.name,
        fields=[spec.as_message() for spec in from_json(info.fields)],
        max_size_bytes=info.max_size_bytes,
        size_bytes=info.size_bytes,
        record_count=info.record_count,
        created_at=timestamp(info.created_at),
    )


def record_message(record: DataRecord) -> model.Record:
    message = model.Record(key=record.key, data=orjson.dumps(record.data).decode())
    if record.created_at is not None:
        message.created_at.CopyFrom(timestamp(record.created_at))
    if record.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(record.updated_at))
    return message


async def _json_object(context: Context, text: str) -> JsonObject:
    try:
        value: Any = orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        await abort_invalid(context, "invalid data", [("data", "must be a JSON object text")])
    return value


async def _key(context: Context, key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH:
        await abort_invalid(
            context, "invalid key", [("key", f"must be 1 to {MAX_KEY_LENGTH} characters")]
        )
    return key


def _checked(data: JsonObject, structure: tuple[FieldSpec, ...]) -> JsonObject:
    violations = validate_record(data, structure)
    if violations:
        raise InvalidRecordError(violations)
    return data


class DataStoreServicer(pb_grpc.DataStoreServiceServicer):
    def __init__(self, store: DataStoreStore, settings: GatewaySettings) -> None:
        self._store = store
        self._settings = settings

    async def _structure(self, context: Context, raw_id: str) -> tuple[uuid.UUID, DataStoreInfo]:
        store_id = await parse_id(context, raw_id, "data_store_id")
        async with store_errors(context, f"data store {store_id}"):
            info = await self._store.get_data_store(current_principal().org_id, store_id)
            if info is None:
                raise NotFoundError(str(store_id))
        return store_id, info

    async def CreateDataStore(
        self, request: pb.CreateDataStoreRequest, context: Context
    ) -> pb.CreateDataStoreResponse:
        principal = await require_role(context, Role.EDITOR)
        structure, problems = parse_fields(request.fields)
        if not request.name.strip() or len(request.name) > 200:
            problems.append(("name", "must be 1 to 200 characters"))
        limit = request.max_size_bytes or self._settings.data_store_default_size_bytes
        if not 0 < limit <= self._settings.data_store_max_size_bytes:
            maximum = self._settings.data_store_max_size_bytes
            problems.append(("max_size_bytes", f"must be between 1 and {maximum}"))
        if problems:
            await abort_invalid(context, "invalid data store", problems)
        async with store_errors(context, "data store"):
            info = await self._store.create_data_store(
                principal.org_id, request.name.strip(), [s.as_json() for s in structure], limit
            )
        return pb.CreateDataStoreResponse(data_store=store_message(info))

    async def ListDataStores(
        self, request: pb.ListDataStoresRequest, context: Context
    ) -> pb.ListDataStoresResponse:
        size = await page_size(context, request.page_size, *STORES_PAGE)
        async with store_errors(context, "data stores"):
            page = await self._store.list_data_stores(
                current_principal().org_id, page_size=size, page_token=request.page_token or None
            )
        return pb.ListDataStoresResponse(
            data_stores=[store_message(i) for i in page.items],
            next_page_token=page.next_page_token or "",
        )

    async def DeleteDataStore(
        self, request: pb.DeleteDataStoreRequest, context: Context
    ) -> pb.DeleteDataStoreResponse:
        principal = await require_role(context, Role.EDITOR)
        store_id = await parse_id(context, request.data_store_id, "data_store_id")
        async with store_errors(context, f"data store {store_id}"):
            await self._store.delete_data_store(principal.org_id, store_id)
        return pb.DeleteDataStoreResponse()

    async def _write(
        self, context: Context, raw_id: str, key: str, change_for: ChangeFactory
    ) -> tuple[DataRecord, bool]:
        principal = current_principal()
        store_id, info = await self._structure(context, raw_id)
        change: RecordChange = change_for(from_json(info.fields))
        try:
            async with store_errors(context, f"data store {store_id}"):
                return await self._store.write_record(
                    principal.org_id,
                    store_id,
                    key,
                    change,
                    max_records=self._settings.data_store_max_records,
                )
        except InvalidRecordError as exc:
            await abort_invalid(context, str(exc), exc.violations)

    async def PutRecord(
        self, request: pb.PutRecordRequest, context: Context
    ) -> pb.PutRecordResponse:
        await require_role(context, Role.EDITOR)
        key = await _key(context, request.key) if request.key else uuid.uuid4().hex
        data = await _json_object(context, request.data)

        def change_for(structure: tuple[FieldSpec, ...]) -> RecordChange:
            def put(current: JsonObject | None) -> JsonObject:
                if current is not None and not request.overwrite:
                    raise ConflictError(f"a record with key {key!r} already exists")
                return _checked(data, structure)

            return put

        record, created = await self._write(context, request.data_store_id, key, change_for)
        return pb.PutRecordResponse(record=record_message(record), created=created)

    async def UpdateRecord(
        self, request: pb.UpdateRecordRequest, context: Context
    ) -> pb.UpdateRecordResponse:
        await require_role(context, Role.EDITOR)
        key = await _key(context, request.key)
        patch = await _json_object(context, request.data)

        def change_for(structure: tuple[FieldSpec, ...]) -> RecordChange:
            def merge(current: JsonObject | None) -> JsonObject:
                if current is None and not request.insert_missing:
                    raise NotFoundError(f"record {key!r}")
                return _checked({**(current or {}), **patch}, structure)

            return merge

        record, _ = await self._write(context, request.data_store_id, key, change_for)
        return pb.UpdateRecordResponse(record=record_message(record))

    async def GetRecord(
        self, request: pb.GetRecordRequest, context: Context
    ) -> pb.GetRecordResponse:
        key = await _key(context, request.key)
        store_id = await parse_id(context, request.data_store_id, "data_store_id")
        async with store_errors(context, f"record {key!r} of data store {store_id}"):
            record = await self._store.get_record(current_principal().org_id, store_id, key)
            if record is None:
                raise NotFoundError(key)
        return pb.GetRecordResponse(record=record_message(record))

    async def RecordExists(
        self, request: pb.RecordExistsRequest, context: Context
    ) -> pb.RecordExistsResponse:
        key = await _key(context, request.key)
        store_id = await parse_id(context, request.data_store_id, "data_store_id")
        async with store_errors(context, f"data store {store_id}"):
            record = await self._store.get_record(current_principal().org_id, store_id, key)
        return pb.RecordExistsResponse(exists=record is not None)

    async def DeleteRecord(
        self, request: pb.DeleteRecordRequest, context: Context
    ) -> pb.DeleteRecordResponse:
        principal = await require_role(context, Role.EDITOR)
        key = await _key(context, request.key)
        store_id = await parse_id(context, request.data_store_id, "data_store_id")
        async with store_errors(context, f"data store {store_id}"):
            deleted = await self._store.delete_record(principal.org_id, store_id, key)
        return pb.DeleteRecordResponse(deleted=deleted)

    async def _matching(
        self, context: Context, raw_id: str, record_filter: model.RecordFilter | None, order: str
    ) -> tuple[Search, list[DataRecord]]:
        store_id, info = await self._structure(context, raw_id)
        search, problems = parse_search(record_filter, order, from_json(info.fields))
        if search is None:
            await abort_invalid(context, "invalid search", problems)
        async with store_errors(context, f"data store {store_id}"):
            records = await self._store.all_records(current_principal().org_id, store_id)
        return search, records

    async def SearchRecords(
        self, request: pb.SearchRecordsRequest, context: Context
    ) -> pb.SearchRecordsResponse:
        size = await page_size(context, request.page_size, *RECORDS_PAGE)
        record_filter = request.filter if request.HasField("filter") else None
        search, records = await self._matching(
            context, request.data_store_id, record_filter, request.order_by
        )
        try:
            async with store_errors(context, "records"):
                found, token = search.run(records, size, request.page_token or None)
        except ExpressionError as exc:
            await abort_invalid(context, "invalid filter", [("filter", str(exc))])
        return pb.SearchRecordsResponse(
            records=[record_message(r) for r in found], next_page_token=token or ""
        )

    async def CountRecords(
        self, request: pb.CountRecordsRequest, context: Context
    ) -> pb.CountRecordsResponse:
        record_filter = request.filter if request.HasField("filter") else None
        search, records = await self._matching(context, request.data_store_id, record_filter, "")
        try:
            count = sum(1 for r in records if search.matches(r))
        except ExpressionError as exc:
            await abort_invalid(context, "invalid filter", [("filter", str(exc))])
        return pb.CountRecordsResponse(count=count)

    async def DeleteAllRecords(
        self, request: pb.DeleteAllRecordsRequest, context: Context
    ) -> pb.DeleteAllRecordsResponse:
        principal = await require_role(context, Role.EDITOR)
        store_id = await parse_id(context, request.data_store_id, "data_store_id")
        async with store_errors(context, f"data store {store_id}"):
            deleted = await self._store.delete_all_records(principal.org_id, store_id)
        return pb.DeleteAllRecordsResponse(deleted=deleted)
