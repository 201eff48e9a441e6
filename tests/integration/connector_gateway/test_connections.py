"""ConnectionService and ConnectorService over real gRPC, secrets at rest in a real Postgres."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import grpc
import pytest
from gateway_stack import Gateway, StartGateway, new_key
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from scenarist.connector.v1 import connection_service_pb2 as pb
from scenarist.connector.v1 import connection_service_pb2_grpc as pb_grpc
from scenarist.connector.v1 import connector_service_pb2 as cpb
from scenarist.connector.v1 import connector_service_pb2_grpc as cpb_grpc
from scenarist.connector.v1.app_pb2 import ModuleKind
from scenarist.connector.v1.connection_pb2 import Connection, ConnectionType
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]


async def _code(call: Any) -> grpc.StatusCode:  # grpc-stubs type aio calls loosely
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


def _violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    bad = error_details_pb2.BadRequest()
    status.details[0].Unpack(bad)
    return {v.field: v.description for v in bad.field_violations}


async def _create(gw: Gateway, md: Metadata, secret: str, **extra: Any) -> Connection:
    request = pb.CreateConnectionRequest(
        app="slack",
        type=ConnectionType.CONNECTION_TYPE_API_KEY,
        name="Team workspace",
        secrets={"api_key": secret},
        parameters={"base_url": "https://slack.test"},
        **extra,
    )
    response = await pb_grpc.ConnectionServiceStub(gw.channel).CreateConnection(
        request, metadata=md
    )
    return response.connection


async def test_connection_crud(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.EDITOR)
    stub = pb_grpc.ConnectionServiceStub(gateway.channel)
    created = await _create(gateway, md, "sk-1")
    assert list(created.secret_fields) == ["api_key"]
    assert dict(created.parameters) == {"base_url": "https://slack.test"}
    got = await stub.GetConnection(pb.GetConnectionRequest(connection_id=created.id), metadata=md)
    assert got.connection == created
    basic = await stub.CreateConnection(
        pb.CreateConnectionRequest(
            app="github",
            type=ConnectionType.CONNECTION_TYPE_BASIC,
            name="Bot",
            secrets={"username": "bot", "password": "pw"},
        ),
        metadata=md,
    )
    listed = await stub.ListConnections(pb.ListConnectionsRequest(page_size=1), metadata=md)
    assert [c.name for c in listed.connections] == ["Bot"] and listed.next_page_token
    slack = await stub.ListConnections(pb.ListConnectionsRequest(app="slack"), metadata=md)
    assert [c.id for c in slack.connections] == [created.id]
    tested = await stub.TestConnection(
        pb.TestConnectionRequest(connection_id=basic.connection.id), metadata=md
    )
    assert tested.ok
    await stub.DeleteConnection(pb.DeleteConnectionRequest(connection_id=created.id), metadata=md)
    assert await _code(
        stub.GetConnection(pb.GetConnectionRequest(connection_id=created.id), metadata=md)
    ) == (grpc.StatusCode.NOT_FOUND)


async def test_invalid_connections_report_each_field(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.EDITOR)
    stub = pb_grpc.ConnectionServiceStub(gateway.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                app="Bad App",
                type=ConnectionType.CONNECTION_TYPE_OAUTH2,
                name="",
                secrets={"client_id": "id-only"},
            ),
            metadata=md,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(_violations(caught.value)) == {"app", "name", "secrets.client_secret"}


async def test_secrets_are_encrypted_at_rest_never_returned_never_logged(
    gateway: Gateway, raw_db: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"sk-live-{uuid.uuid4().hex}"
    md = await gateway.token(await gateway.org(), Role.OWNER)
    stub = pb_grpc.ConnectionServiceStub(gateway.channel)
    responses: list[Message] = []
    created = await _create(gateway, md, secret)
    responses.append(created)
    cid = created.id
    responses.append(
        await stub.GetConnection(pb.GetConnectionRequest(connection_id=cid), metadata=md)
    )
    responses.append(await stub.ListConnections(pb.ListConnectionsRequest(), metadata=md))
    responses.append(
        await stub.TestConnection(pb.TestConnectionRequest(connection_id=cid), metadata=md)
    )
    errors: list[str] = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:  # a refused create echoes no value
        await stub.CreateConnection(
            pb.CreateConnectionRequest(
                app="x",
                type=ConnectionType.CONNECTION_TYPE_BASIC,
                name="n",
                secrets={"password": secret},
            ),
            metadata=md,
        )
    errors += [str(caught.value.details()), repr(_violations(caught.value))]
    row = await raw_db.fetchrow("SELECT * FROM gateway.connections WHERE id = $1", uuid.UUID(cid))
    assert row is not None
    raw = b"".join(
        value if isinstance(value, bytes) else str(value).encode() for value in row.values()
    )
    assert secret.encode() not in raw and b"sk-live" not in raw
    assert len(row["ciphertext"]) > len(secret) and row["key_id"] == "k1"
    for response in responses:
        assert secret not in str(response)
        assert secret.encode() not in response.SerializeToString()
    assert all(secret not in text for text in errors)
    assert caplog.records, "the gateway logged nothing to check"
    assert secret not in caplog.text
    assert all(secret not in str(record.__dict__) for record in caplog.records)
    await stub.DeleteConnection(pb.DeleteConnectionRequest(connection_id=cid), metadata=md)


async def test_key_rotation_rewraps_data_keys(
    start_gateway: StartGateway, raw_db: asyncpg.Connection
) -> None:
    old_key, new_key_text = new_key(), new_key()
    first = await start_gateway(old_key, "old")
    md = await first.token(await first.org(), Role.EDITOR)
    created = await _create(first, md, "sk-rotate")
    await first.lifecycle.shutdown()
    second = await start_gateway(new_key_text, "new", {"old": old_key})
    for _ in range(200):  # the rewrap runs in the background after start
        key_id = await raw_db.fetchval(
            "SELECT key_id FROM gateway.connections WHERE id = $1", uuid.UUID(created.id)
        )
        if key_id == "new":
            break
        await asyncio.sleep(0.05)
    assert key_id == "new"
    await second.lifecycle.shutdown()
    third = await start_gateway(new_key_text, "new")  # the old key is gone for good
    stub = pb_grpc.ConnectionServiceStub(third.channel)
    tested = await stub.TestConnection(
        pb.TestConnectionRequest(connection_id=created.id), metadata=md
    )
    assert tested.ok, tested.error
    fourth_key = new_key()
    await third.lifecycle.shutdown()
    wrong = await start_gateway(fourth_key, "new")  # same id, different key: refused, no crash
    tested = await pb_grpc.ConnectionServiceStub(wrong.channel).TestConnection(
        pb.TestConnectionRequest(connection_id=created.id), metadata=md
    )
    assert not tested.ok and tested.error.type == "AuthError"


async def test_other_orgs_get_not_found_and_viewers_cannot_write(gateway: Gateway) -> None:
    org = await gateway.org()
    owner = await gateway.token(org, Role.OWNER)
    viewer = await gateway.token(org, Role.VIEWER)
    stranger = await gateway.token(await gateway.org("Globex"), Role.OWNER)
    stub = pb_grpc.ConnectionServiceStub(gateway.channel)
    cid = (await _create(gateway, owner, "sk-x")).id
    by_id: dict[str, Callable[[Metadata], Awaitable[Any]]] = {
        "get": lambda md: stub.GetConnection(
            pb.GetConnectionRequest(connection_id=cid), metadata=md
        ),
        "test": lambda md: stub.TestConnection(
            pb.TestConnectionRequest(connection_id=cid), metadata=md
        ),
        "delete": lambda md: stub.DeleteConnection(
            pb.DeleteConnectionRequest(connection_id=cid), metadata=md
        ),
    }
    for name, call in by_id.items():
        assert await _code(call(stranger)) == grpc.StatusCode.NOT_FOUND, name
    listed = await stub.ListConnections(pb.ListConnectionsRequest(), metadata=stranger)
    assert list(listed.connections) == []
    for name in ("test", "delete"):
        assert await _code(by_id[name](viewer)) == grpc.StatusCode.PERMISSION_DENIED, name
    assert await _code(_create(gateway, viewer, "sk-v")) == grpc.StatusCode.PERMISSION_DENIED
    await by_id["get"](viewer)  # reading metadata is fine for viewers
    connector = cpb_grpc.ConnectorServiceStub(gateway.channel)
    assert await _code(
        connector.ExecuteModule(
            cpb.ExecuteModuleRequest(app="slack", module="Post"), metadata=viewer
        )
    ) == (grpc.StatusCode.PERMISSION_DENIED)
    # No API token runs modules, not even an owner's for its own organization: executors call
    # ExecuteModule on the gateway's internal port (docs/adr/0005-connector-execution.md).
    for org_text in (str(uuid.uuid4()), ""):
        foreign_run = cpb.RunInfo(organization_id=org_text)
        assert await _code(
            connector.ExecuteModule(
                cpb.ExecuteModuleRequest(app="http", module="MakeRequest", run=foreign_run),
                metadata=owner,
            )
        ) == (grpc.StatusCode.PERMISSION_DENIED)


async def test_catalogue_lists_builtin_and_connector_apps(gateway: Gateway) -> None:
    md = await gateway.token(await gateway.org(), Role.VIEWER)
    stub = cpb_grpc.ConnectorServiceStub(gateway.channel)
    apps = await stub.ListApps(cpb.ListAppsRequest(), metadata=md)
    names = [a.name for a in apps.apps]
    assert names == sorted(names) and {"builtin", "json", "util", "http", "csv"} <= set(names)
    first = await stub.ListApps(cpb.ListAppsRequest(page_size=2), metadata=md)
    rest = await stub.ListApps(
        cpb.ListAppsRequest(page_token=first.next_page_token, page_size=500), metadata=md
    )
    assert [a.name for a in [*first.apps, *rest.apps]] == names
    util = await stub.ListModules(cpb.ListModulesRequest(app="util"), metadata=md)
    assert "SetVariable2" in [m.name for m in util.modules]
    assert "SetVariable" not in [m.name for m in util.modules]  # aliases are not listed
    assert await _code(stub.ListModules(cpb.ListModulesRequest(app="nope"), metadata=md)) == (
        grpc.StatusCode.NOT_FOUND
    )
    http_app = next(a for a in apps.apps if a.name == "http")
    assert http_app.version and ConnectionType.CONNECTION_TYPE_API_KEY in http_app.connection_types
    [request] = (await stub.ListModules(cpb.ListModulesRequest(app="http"), metadata=md)).modules
    assert request.name == "MakeRequest" and request.kind == ModuleKind.MODULE_KIND_ACTION
    inputs = {f.name: f for f in request.inputs}
    assert inputs["url"].required and inputs["url"].type == "url"
    assert [o.value for o in inputs["method"].options][:2] == ['"get"', '"head"']
    assert inputs["timeout"].default == "40"
    assert {"name", "value"} == {f.name for f in inputs["headers"].fields}
    assert {"statusCode", "headers", "data"} <= {f.name for f in request.outputs}
