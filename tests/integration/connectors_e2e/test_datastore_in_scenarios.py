"""Make's data store modules (the gateway-native ``datastore`` app) inside real scenarios, through
the orchestrator, the executor and the gateway's ExecuteModule, on real Postgres and Redis.

One hosted stack for the module (all five services in this process, standalone mode) and two
organizations on it, each with an editor token: stores are made with DataStoreService, written
and read by scenarios, and checked again through DataStoreService.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import pytest_asyncio
from app_scenarios import SERVICES, aggregated, aggregator, app_module, scenario, stack_environment
from e2e_stack import Stack
from pydantic import SecretStr
from scenarist.connector.v1 import (
    connector_service_pb2,
    connector_service_pb2_grpc,
    data_store_service_pb2,
    data_store_service_pb2_grpc,
)
from scenarist.connector.v1.field_pb2 import Field
from scenarist.run.v1 import run_pb2
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SUCCESS = run_pb2.RunStatus.RUN_STATUS_SUCCESS
ERROR = run_pb2.RunStatus.RUN_STATUS_ERROR
PEOPLE = [
    Field(name="email", type="text", required=True),
    Field(name="name", type="text"),
    Field(name="age", type="number"),
]


@dataclass
class Tenants:
    ours: Stack
    theirs: Stack


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tenants(database_dsn: str, redis_url: str) -> AsyncIterator[Tenants]:
    settings = ServiceSettings(
        service_name="datastore-in-scenarios",
        mode="standalone",
        http_port=0,
        grpc_port=0,
        postgres_dsn=SecretStr(database_dsn),
        redis_url=SecretStr(redis_url),
        drain_timeout_seconds=5.0,
    )
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack_environment().items():
            patch.setenv(name, value)
        lifecycle = Lifecycle(settings)
        try:
            hosted = await start_host(SERVICES, settings, lifecycle)
            identity = PgIdentityStore(hosted.host.pool)
            tokens = []
            for who in ("ours", "theirs"):
                org = await identity.create_organization(f"ds-{who}-{uuid.uuid4().hex[:6]}")
                _, token = await identity.create_token(org.id, Role.EDITOR, "datastore-e2e")
                tokens.append((org.id, token))
            async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
                yield Tenants(*(Stack(hosted, channel, org, token) for org, token in tokens))
        finally:
            await lifecycle.shutdown()


def _stores(stack: Stack) -> data_store_service_pb2_grpc.DataStoreServiceAsyncStub:
    return data_store_service_pb2_grpc.DataStoreServiceStub(stack.channel)


async def _data_store(stack: Stack, max_size_bytes: int = 0) -> str:
    created = await _stores(stack).CreateDataStore(
        data_store_service_pb2.CreateDataStoreRequest(
            name=f"people-{uuid.uuid4().hex[:8]}", fields=PEOPLE, max_size_bytes=max_size_bytes
        ),
        metadata=stack.auth,
    )
    return str(created.data_store.id)


async def _count(stack: Stack, store: str) -> int:
    counted = await _stores(stack).CountRecords(
        data_store_service_pb2.CountRecordsRequest(data_store_id=store), metadata=stack.auth
    )
    return int(counted.count)


async def _bundles(stack: Stack, run_id: str, module_id: int, count: int = 1) -> list[Any]:
    out: list[Any] = []
    for step in await stack.steps(run_id, module_id, count):
        if step.output and not step.error.type:
            out.extend(json.loads(step.output))
    return out


def _store_module(module_id: int, module: str, store: str, **mapper: Any) -> dict[str, Any]:
    return {
        "id": module_id,
        "module": f"datastore:{module}",
        "parameters": {"datastore": store},
        "mapper": mapper,
    }


async def test_the_catalogue_lists_the_data_store_modules(tenants: Tenants) -> None:
    stub = connector_service_pb2_grpc.ConnectorServiceStub(tenants.ours.channel)
    listed = await stub.ListModules(
        connector_service_pb2.ListModulesRequest(app="datastore"), metadata=tenants.ours.auth
    )
    assert {m.name for m in listed.modules} == {
        "AddRecord",
        "UpdateRecord",
        "GetRecord",
        "ExistRecord",
        "DeleteRecord",
        "SearchRecords",
        "CountRecords",
        "DeleteAllRecords",
    }


async def test_add_each_item_then_search_aggregate_and_count(tenants: Tenants) -> None:
    stack = tenants.ours
    store = await _data_store(stack)
    add = {"email": "{{2.email}}", "name": "{{2.name}}", "age": "{{2.age}}"}
    adults = [[{"a": "age", "o": "number:greaterorequal", "b": "{{1.adult}}"}]]
    document = scenario(
        "people into a data store",
        app_module(2, "builtin:BasicFeeder", array="{{1.people}}"),
        _store_module(3, "AddRecord", store, key="{{2.email}}", data=add),
        aggregator(4, 2, key="{{3.key}}"),
        _store_module(5, "SearchRecords", store, filter=adults, sort={"field": "age"}),
        aggregator(6, 5, name="{{5.data.name}}", age="{{5.data.age}}"),
        _store_module(7, "CountRecords", store),
    )
    people = [
        {"email": "ada@x.io", "name": "Ada", "age": 36},
        {"email": "kid@x.io", "name": "Kid", "age": 9},
        {"email": "alan@x.io", "name": "Alan", "age": "41"},  # text: stored as a number
    ]
    run = await stack.run(document, {"people": people, "adult": 18})

    assert run.status == SUCCESS, run.error
    assert aggregated(await _bundles(stack, run.id, 4)) == [
        {"key": "ada@x.io"},
        {"key": "kid@x.io"},
        {"key": "alan@x.io"},
    ]
    assert aggregated(await _bundles(stack, run.id, 6)) == [
        {"name": "Ada", "age": 36},
        {"name": "Alan", "age": 41},
    ]
    assert await _bundles(stack, run.id, 7) == [{"count": 3}]
    got = await _stores(stack).GetRecord(
        data_store_service_pb2.GetRecordRequest(data_store_id=store, key="alan@x.io"),
        metadata=stack.auth,
    )
    assert json.loads(got.record.data) == {"email": "alan@x.io", "name": "Alan", "age": 41}


def _dedupe(store: str) -> dict[str, Any]:
    """Make's datastore-dedupe pattern: add an item only when its key is not stored yet."""
    new_only = {"conditions": [[{"a": "{{3.exist}}", "o": "boolean:equal", "b": "false"}]]}
    add = {
        **_store_module(4, "AddRecord", store, key="{{2.id}}", data={"email": "{{2.email}}"}),
        "filter": {"name": "new only", **new_only},
    }
    return scenario(
        "dedupe",
        app_module(2, "builtin:BasicFeeder", array="{{1.items}}"),
        _store_module(3, "ExistRecord", store, key="{{2.id}}"),
        add,
        aggregator(5, 2, key="{{4.key}}"),
    )


async def test_dedupe_adds_each_key_once_across_runs(tenants: Tenants) -> None:
    stack = tenants.ours
    store = await _data_store(stack)
    document = _dedupe(store)

    def items(*ids: str) -> dict[str, Any]:
        return {"items": [{"id": i, "email": f"{i}@x.io"} for i in ids]}

    first = await stack.run(document, items("a", "b", "a"))
    assert first.status == SUCCESS, first.error
    assert aggregated(await _bundles(stack, first.id, 5)) == [{"key": "a"}, {"key": "b"}]
    assert [b["exist"] for b in await _bundles(stack, first.id, 3, 3)] == [False, False, True]

    second = await stack.run(document, items("b", "c"))
    assert second.status == SUCCESS, second.error
    assert aggregated(await _bundles(stack, second.id, 5)) == [{"key": "c"}]
    assert await _count(stack, store) == 3


async def test_records_that_break_the_structure_or_the_limit_are_data_errors(
    tenants: Tenants,
) -> None:
    stack = tenants.ours
    store = await _data_store(stack, max_size_bytes=120)
    wrong = scenario(
        "wrong types",
        _store_module(2, "AddRecord", store, key="x", data={"age": "old", "nickname": "X"}),
    )
    run = await stack.run(wrong, {})
    assert run.status == ERROR
    assert run.error.type == "DataError", run.error
    [step] = await stack.steps(run.id, 2)
    assert "data.age: must be a number" in step.error.message
    assert "data.nickname: is not a field" in step.error.message
    assert "data.email: is required" in step.error.message

    fill = scenario(
        "too much",
        app_module(2, "builtin:BasicFeeder", array="{{1.emails}}"),
        _store_module(3, "AddRecord", store, data={"email": "{{2.value}}"}),
    )
    emails = [f"{n}-{'x' * 40}@x.io" for n in range(4)]
    run = await stack.run(fill, {"emails": emails})
    assert run.status == ERROR
    assert run.error.type == "DataError", run.error
    assert 0 < await _count(stack, store) < len(emails)


async def test_another_organizations_store_is_like_a_missing_one(tenants: Tenants) -> None:
    theirs = await _data_store(tenants.theirs)
    await _stores(tenants.theirs).PutRecord(
        data_store_service_pb2.PutRecordRequest(
            data_store_id=theirs, key="secret", data=json.dumps({"email": "boss@them.io"})
        ),
        metadata=tenants.theirs.auth,
    )
    messages = []
    for store in (theirs, str(uuid.uuid4())):
        document = scenario(
            "peek",
            _store_module(2, "GetRecord", store, key="secret"),
            _store_module(3, "DeleteAllRecords", store),
        )
        run = await tenants.ours.run(document, {})
        assert run.status == ERROR
        assert run.error.type == "InvalidConfigurationError", run.error
        [step] = await tenants.ours.steps(run.id, 2)
        assert not step.output or json.loads(step.output) in ([], None)
        messages.append(step.error.message.replace(store, "<id>"))
    assert messages[0] == messages[1]
    assert await _count(tenants.theirs, theirs) == 1
