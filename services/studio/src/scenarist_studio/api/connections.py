"""Connections (ConnectionService on the connector gateway): the picker on module forms and the
"add connection" flow. Secret values go in once and never come back: every response is built
from the Connection message, which carries only the names of the stored secret fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from scenarist.connector.v1 import connection_pb2
from scenarist.connector.v1 import connection_service_pb2 as pb
from scenarist_storage.models import Role
from starlette.responses import Response

from scenarist_studio.context import Ctx
from scenarist_studio.routing import Endpoint, Query
from scenarist_studio.views import time_text

MAX_PAGES = 20
ConnectionKind = Literal["api_key", "basic", "bearer", "oauth2"]
_TYPES: dict[str, connection_pb2.ConnectionType.ValueType] = {
    "api_key": connection_pb2.CONNECTION_TYPE_API_KEY,
    "basic": connection_pb2.CONNECTION_TYPE_BASIC,
    "bearer": connection_pb2.CONNECTION_TYPE_BEARER,
    "oauth2": connection_pb2.CONNECTION_TYPE_OAUTH2,
}
_TYPE_NAMES = {value: name for name, value in _TYPES.items()}


class NewConnection(BaseModel):
    app: str = Field(min_length=1, max_length=64)
    type: ConnectionKind
    name: str = Field(min_length=1, max_length=200)
    secrets: dict[str, str] = Field(default_factory=dict, max_length=20)
    parameters: dict[str, str] = Field(default_factory=dict, max_length=20)


def connection_view(c: connection_pb2.Connection) -> dict[str, Any]:
    return {
        "id": c.id,
        "app": c.app,
        "type": _TYPE_NAMES.get(c.type, "unspecified"),
        "name": c.name,
        "parameters": dict(c.parameters),
        "secret_fields": list(c.secret_fields),
        "created_at": time_text(c, "created_at"),
        "expires_at": time_text(c, "expires_at"),
    }


async def list_connections(ctx: Ctx) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await ctx.call(
            ctx.studio.clients.connections.ListConnections,
            pb.ListConnectionsRequest(app=ctx.query("app"), page_size=500, page_token=token),
        )
        found += [connection_view(c) for c in page.connections]
        token = page.next_page_token
        if not token:
            break
    return {"connections": found}


async def create_connection(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(NewConnection)
    request = pb.CreateConnectionRequest(
        app=body.app,
        type=_TYPES[body.type],
        name=body.name,
        secrets=body.secrets,
        parameters=body.parameters,
    )
    created = await ctx.call(ctx.studio.clients.connections.CreateConnection, request)
    return connection_view(created.connection)


async def test_connection(ctx: Ctx) -> dict[str, Any]:
    request = pb.TestConnectionRequest(connection_id=ctx.param("connection_id"))
    tested = await ctx.call(ctx.studio.clients.connections.TestConnection, request)
    error = (
        {"type": tested.error.type, "message": tested.error.message}
        if tested.HasField("error")
        else None
    )
    return {"ok": tested.ok, "error": error, "account_label": tested.account_label}


async def delete_connection(ctx: Ctx) -> Response:
    request = pb.DeleteConnectionRequest(connection_id=ctx.param("connection_id"))
    await ctx.call(ctx.studio.clients.connections.DeleteConnection, request)
    return Response(status_code=204)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/connections",
        list_connections,
        "Connections (never their secret values)",
        "connections",
        query=(Query("app", "only connections of this app"),),
    ),
    Endpoint(
        "POST",
        "/connections",
        create_connection,
        "Add a connection; its secrets are stored encrypted and never returned",
        "connections",
        role=Role.EDITOR,
        body=NewConnection,
        status=201,
    ),
    Endpoint(
        "POST",
        "/connections/{connection_id}/test",
        test_connection,
        "Check the credentials against the app",
        "connections",
        role=Role.EDITOR,
    ),
    Endpoint(
        "DELETE",
        "/connections/{connection_id}",
        delete_connection,
        "Delete a connection",
        "connections",
        role=Role.EDITOR,
        status=204,
    ),
)
