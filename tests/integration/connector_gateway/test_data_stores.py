"""DataStoreService over real gRPC on a real Postgres."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import orjson
import pytest
from gateway_stack import Gateway
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from scenarist.connector.v1 import data_store_service_pb2 as pb
from scenarist.connector.v1 import data_store_service_pb2_grpc as pb_grpc
from scenarist.connector.v1.data_store_pb2 import Condition, ConditionGroup, RecordFilter
from scenarist.connector.v1.field_pb2 import Field
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]
FIELDS = [
    Field(name="email", type="text", required=True),
    Field(name="age", type="number"),
    Field(name="vip", type="boolean"),
    Field(name="address", type="collection", fields=[Field(name="city", type="text")]),
]


async def _error(call: Any) -> grpc.aio.AioRpcError:  # grpc-stubs type aio calls loosely
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad)
    return {v.field: v.description for v in bad.field_violations}


def _put(store_id: str, data: dict[str, Any], key: str = "", **extra: Any) -> pb.PutRecordRequest:
    return pb.PutRecordRequest(
        data_store_id=store_id, key=key, data=orjson.dumps(data).decode(), **extra
    )


def _where(field: str, operator: str, value: Any) -> RecordFilter:
    condition = Condition(field=field, operator=operator, value=orjson.dumps(value).decode())
    return RecordFilter(groups=[ConditionGroup(conditions=[condition])])


async def _store(
    gateway: Gateway, md: Metadata, **extra: Any
) -> tuple[pb_grpc.DataStoreServiceAsyncStub, str]:
    stub = pb_grpc.DataStoreServiceStub(gateway.channel)
    created = await stub.CreateDataStore(
        pb.CreateDataStoreRequest(name="Customers", fields=FIELDS, **extra), metadata=md
    )
    return stub, created.data_store.id


async def test_records_crud_search_and_count(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.EDITOR)
    stub, sid = await _store(gateway, md)
    auto = await stub.PutRecord(_put(sid, {"email": "a@x", "age": 30}), metadata=md)
    assert auto.created and len(auto.record.key) == 32
    await stub.PutRecord(_put(sid, {"email": "b@x", "age": 17}, "bob"), metadata=md)
    duplicate = await _error(stub.PutRecord(_put(sid, {"email": "c@x"}, "bob"), metadata=md))
    assert duplicate.code() == grpc.StatusCode.ALREADY_EXISTS
    replaced = await stub.PutRecord(
        _put(sid, {"email": "b2@x", "age": 18}, "bob", overwrite=True), metadata=md
    )
    assert not replaced.created
    merged = await stub.UpdateRecord(
        pb.UpdateRecordRequest(data_store_id=sid, key="bob", data='{"vip": true}'), metadata=md
    )
    assert orjson.loads(merged.record.data) == {"email": "b2@x", "age": 18, "vip": True}
    missing = pb.UpdateRecordRequest(data_store_id=sid, key="zed", data='{"email": "z@x"}')
    assert (await _error(stub.UpdateRecord(missing, metadata=md))).code() == (
        grpc.StatusCode.NOT_FOUND
    )
    missing.insert_missing = True
    await stub.UpdateRecord(missing, metadata=md)
    got = await stub.GetRecord(pb.GetRecordRequest(data_store_id=sid, key="zed"), metadata=md)
    assert orjson.loads(got.record.data) == {"email": "z@x"}
    exists = await stub.RecordExists(
        pb.RecordExistsRequest(data_store_id=sid, key="nope"), metadata=md
    )
    assert not exists.exists
    adults = await stub.SearchRecords(
        pb.SearchRecordsRequest(
            data_store_id=sid,
            filter=_where("age", "number:greaterorequal", 18),
            order_by="age desc",
            page_size=1,
        ),
        metadata=md,
    )
    assert [orjson.loads(r.data)["age"] for r in adults.records] == [30]
    rest = await stub.SearchRecords(
        pb.SearchRecordsRequest(
            data_store_id=sid,
            filter=_where("age", "number:greaterorequal", 18),
            order_by="age desc",
            page_token=adults.next_page_token,
        ),
        metadata=md,
    )
    assert [r.key for r in rest.records] == ["bob"] and not rest.next_page_token
    count = await stub.CountRecords(
        pb.CountRecordsRequest(data_store_id=sid, filter=_where("email", "text:contain", "2@")),
        metadata=md,
    )
    assert count.count == 1
    deleted = await stub.DeleteRecord(
        pb.DeleteRecordRequest(data_store_id=sid, key="zed"), metadata=md
    )
    assert deleted.deleted
    listed = await stub.ListDataStores(pb.ListDataStoresRequest(), metadata=md)
    assert [(s.name, s.record_count) for s in listed.data_stores] == [("Customers", 2)]
    assert listed.data_stores[0].size_bytes > 0
    assert [f.name for f in listed.data_stores[0].fields] == ["email", "age", "vip", "address"]
    emptied = await stub.DeleteAllRecords(
        pb.DeleteAllRecordsRequest(data_store_id=sid), metadata=md
    )
    assert emptied.deleted == 2
    await stub.DeleteDataStore(pb.DeleteDataStoreRequest(data_store_id=sid), metadata=md)
    assert (await stub.ListDataStores(pb.ListDataStoresRequest(), metadata=md)).data_stores == []


async def test_validation_errors_carry_field_details(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.EDITOR)
    stub, sid = await _store(gateway, md)
    bad = {"age": "old", "vip": "yes", "address": {"city": 5}, "extra": 1}
    error = await _error(stub.PutRecord(_put(sid, bad), metadata=md))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(error)) == {
        "data.email",
        "data.age",
        "data.vip",
        "data.address.city",
        "data.extra",
    }
    await stub.PutRecord(_put(sid, {"email": "a@x"}, "a"), metadata=md)
    error = await _error(
        stub.UpdateRecord(
            pb.UpdateRecordRequest(data_store_id=sid, key="a", data='{"email": null}'), metadata=md
        )
    )
    assert _violations(error) == {"data.email": "is required"}
    error = await _error(
        stub.PutRecord(pb.PutRecordRequest(data_store_id=sid, data="[1]"), metadata=md)
    )
    assert set(_violations(error)) == {"data"}
    error = await _error(
        stub.CreateDataStore(
            pb.CreateDataStoreRequest(
                name="", fields=[Field(name="x", type="blob")], max_size_bytes=1 << 40
            ),
            metadata=md,
        )
    )
    assert set(_violations(error)) == {"name", "fields[0].type", "max_size_bytes"}
    error = await _error(
        stub.SearchRecords(
            pb.SearchRecordsRequest(data_store_id=sid, filter=_where("age", "number:huge", 1)),
            metadata=md,
        )
    )
    assert set(_violations(error)) == {"filter.groups[0].conditions[0].operator"}
    got = await stub.GetRecord(pb.GetRecordRequest(data_store_id=sid, key="a"), metadata=md)
    assert orjson.loads(got.record.data) == {"email": "a@x"}  # refused writes changed nothing


async def test_limits_and_duplicate_names(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.EDITOR)
    stub, sid = await _store(gateway, md, max_size_bytes=120)
    await stub.PutRecord(_put(sid, {"email": "x" * 50}, "a"), metadata=md)
    error = await _error(stub.PutRecord(_put(sid, {"email": "y" * 50}, "b"), metadata=md))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    again = await _error(
        stub.CreateDataStore(
            pb.CreateDataStoreRequest(name="Customers", fields=FIELDS), metadata=md
        )
    )
    assert again.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_other_orgs_get_not_found_and_viewers_cannot_write(gateway: Gateway) -> None:
    org = await gateway.org()
    editor = await gateway.token(org, Role.EDITOR)
    viewer = await gateway.token(org, Role.VIEWER)
    stranger = await gateway.token(await gateway.org("Globex"), Role.OWNER)
    stub, sid = await _store(gateway, editor)
    await stub.PutRecord(_put(sid, {"email": "a@x"}, "a"), metadata=editor)
    reads: dict[str, Callable[[Metadata], Awaitable[Any]]] = {
        "get": lambda md: stub.GetRecord(
            pb.GetRecordRequest(data_store_id=sid, key="a"), metadata=md
        ),
        "exists": lambda md: stub.RecordExists(
            pb.RecordExistsRequest(data_store_id=sid, key="a"), metadata=md
        ),
        "search": lambda md: stub.SearchRecords(
            pb.SearchRecordsRequest(data_store_id=sid), metadata=md
        ),
        "count": lambda md: stub.CountRecords(
            pb.CountRecordsRequest(data_store_id=sid), metadata=md
        ),
    }
    writes: dict[str, Callable[[Metadata], Awaitable[Any]]] = {
        "put": lambda md: stub.PutRecord(_put(sid, {"email": "b@x"}, "b"), metadata=md),
        "update": lambda md: stub.UpdateRecord(
            pb.UpdateRecordRequest(data_store_id=sid, key="a", data="{}"), metadata=md
        ),
        "delete_record": lambda md: stub.DeleteRecord(
            pb.DeleteRecordRequest(data_store_id=sid, key="a"), metadata=md
        ),
        "delete_all": lambda md: stub.DeleteAllRecords(
            pb.DeleteAllRecordsRequest(data_store_id=sid), metadata=md
        ),
        "delete_store": lambda md: stub.DeleteDataStore(
            pb.DeleteDataStoreRequest(data_store_id=sid), metadata=md
        ),
    }
    for name, call in {**reads, **writes}.items():
        assert (await _error(call(stranger))).code() == grpc.StatusCode.NOT_FOUND, name
    for name, call in writes.items():
        assert (await _error(call(viewer))).code() == grpc.StatusCode.PERMISSION_DENIED, name
    create = stub.CreateDataStore(
        pb.CreateDataStoreRequest(name="V", fields=FIELDS), metadata=viewer
    )
    assert (await _error(create)).code() == grpc.StatusCode.PERMISSION_DENIED
    for call in reads.values():
        await call(viewer)  # viewers read
    listed = await stub.ListDataStores(pb.ListDataStoresRequest(), metadata=stranger)
    assert list(listed.data_stores) == []
    count = await stub.CountRecords(pb.CountRecordsRequest(data_store_id=sid), metadata=editor)
    assert count.count == 1  # nothing above changed the store
