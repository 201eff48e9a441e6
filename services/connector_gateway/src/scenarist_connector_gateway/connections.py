"""ConnectionService: credentials go in once, sealed; only their field names ever come out.

Nothing here logs a request or a secret, and error messages name fields, never values.
"""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import NoReturn

import grpc
import orjson
from scenarist.common.v1.error_pb2 import Error
from scenarist.connector.v1 import connection_pb2
from scenarist.connector.v1 import connection_service_pb2 as pb
from scenarist.connector.v1 import connection_service_pb2_grpc as pb_grpc
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist_connector_sdk import Connection, ConnectorRuntime, errors
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import (
    Context,
    abort,
    abort_invalid,
    not_found,
    page_size,
    parse_id,
    timestamp,
)
from scenarist_storage.gateway_models import ConnectionRecord, NewConnection
from scenarist_storage.models import Role
from scenarist_storage.ports import ConnectionStore

from scenarist_connector_gateway.oauth import FlowRefusedError, OAuthFlows, uses_authorization_code
from scenarist_connector_gateway.rpc import store_errors
from scenarist_connector_gateway.secrets import Keyring, SecretUnavailableError, connection_aad

log = logging.getLogger(__name__)

PAGE = (50, 500)
_APP = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
TYPE_NAMES: Mapping[ConnectionType.ValueType, str] = {
    ConnectionType.CONNECTION_TYPE_API_KEY: "api_key",
    ConnectionType.CONNECTION_TYPE_BASIC: "basic",
    ConnectionType.CONNECTION_TYPE_BEARER: "bearer",
    ConnectionType.CONNECTION_TYPE_OAUTH2: "oauth2",
}
TYPES_BY_NAME = {name: value for value, name in TYPE_NAMES.items()}
# Secret fields each type needs; OAuth2 may add refresh_token / access_token (authorization code)
# or not (client credentials).
REQUIRED_SECRETS: Mapping[str, tuple[str, ...]] = {
    "api_key": ("api_key",),
    "basic": ("username", "password"),
    "bearer": ("token",),
    "oauth2": ("client_id", "client_secret"),
}
# Required fields that are not secret: the database and SMTP apps declare the user name a plain
# parameter (the SDK reads either side), so a parameter satisfies them as well as a secret.
_PLAIN = frozenset({"username"})


def missing_secrets(
    kind: str, secrets: Mapping[str, str], parameters: Mapping[str, str] | None = None
) -> list[str]:
    given = parameters or {}
    return [
        name
        for name in REQUIRED_SECRETS.get(kind, ())
        if not secrets.get(name) and not (name in _PLAIN and given.get(name))
    ]


def _validate_create(request: pb.CreateConnectionRequest) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not _APP.match(request.app):
        problems.append(("app", "must be an app name (lowercase letters, digits, _ or -)"))
    kind = TYPE_NAMES.get(request.type)
    if kind is None:
        problems.append(("type", "must be one of api_key, basic, bearer, oauth2"))
    if not request.name.strip() or len(request.name) > 200:
        problems.append(("name", "must be 1 to 200 characters"))
    for name in request.secrets:
        if not name:
            problems.append(("secrets", "secret field names must not be empty"))
    if kind is not None:
        problems += [
            (f"secrets.{name}", f"required for {kind} connections")
            for name in missing_secrets(kind, request.secrets, request.parameters)
        ]
    return problems


def connection_message(record: ConnectionRecord) -> connection_pb2.Connection:
    message = connection_pb2.Connection(
        id=str(record.id),
        organization_id=str(record.org_id),
        app=record.app,
        type=TYPES_BY_NAME.get(record.type, ConnectionType.CONNECTION_TYPE_UNSPECIFIED),
        name=record.name,
        parameters=record.parameters,
        secret_fields=sorted(record.secret_fields),
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
    )
    if record.expires_at is not None:
        message.expires_at.CopyFrom(timestamp(record.expires_at))
    return message


class ConnectionServicer(pb_grpc.ConnectionServiceServicer):
    def __init__(
        self,
        store: ConnectionStore,
        keyring: Keyring,
        runtime: ConnectorRuntime | None = None,
        oauth: OAuthFlows | None = None,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._runtime = runtime
        self._oauth = oauth

    async def CreateConnection(
        self, request: pb.CreateConnectionRequest, context: Context
    ) -> pb.CreateConnectionResponse:
        principal = await require_role(context, Role.EDITOR)
        problems = _validate_create(request)
        if problems:
            await abort_invalid(context, "invalid connection", problems)
        connection_id = uuid.uuid4()
        plaintext = orjson.dumps(dict(request.secrets), option=orjson.OPT_SORT_KEYS)
        sealed = self._keyring.seal(plaintext, connection_aad(principal.org_id, connection_id))
        new = NewConnection(
            org_id=principal.org_id,
            id=connection_id,
            app=request.app,
            type=TYPE_NAMES[request.type],
            name=request.name.strip(),
            parameters=dict(request.parameters),
            secret_fields=tuple(sorted(request.secrets)),
            sealed=sealed,
        )
        async with store_errors(context, "connection"):
            record = await self._store.create_connection(new)
        # An audit line with names only: the secret values exist here solely in `request`.
        log.info(
            "connection created",
            extra={
                "connection": str(record.id),
                "app": record.app,
                "type": record.type,
                "secret_fields": list(record.secret_fields),
            },
        )
        return pb.CreateConnectionResponse(connection=connection_message(record))

    async def _get(self, context: Context, raw_id: str) -> ConnectionRecord:
        connection_id = await parse_id(context, raw_id, "connection_id")
        record = await self._store.get_connection(current_principal().org_id, connection_id)
        if record is None:
            await not_found(context, f"connection {connection_id}")
        return record

    async def GetConnection(
        self, request: pb.GetConnectionRequest, context: Context
    ) -> pb.GetConnectionResponse:
        record = await self._get(context, request.connection_id)
        return pb.GetConnectionResponse(connection=connection_message(record))

    async def ListConnections(
        self, request: pb.ListConnectionsRequest, context: Context
    ) -> pb.ListConnectionsResponse:
        size = await page_size(context, request.page_size, *PAGE)
        async with store_errors(context, "connections"):
            page = await self._store.list_connections(
                current_principal().org_id,
                app=request.app or None,
                page_size=size,
                page_token=request.page_token or None,
            )
        return pb.ListConnectionsResponse(
            connections=[connection_message(c) for c in page.items],
            next_page_token=page.next_page_token or "",
        )

    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: Context
    ) -> pb.DeleteConnectionResponse:
        principal = await require_role(context, Role.EDITOR)
        connection_id = await parse_id(context, request.connection_id, "connection_id")
        async with store_errors(context, f"connection {connection_id}"):
            await self._store.delete_connection(principal.org_id, connection_id)
        log.info("connection deleted", extra={"connection": str(connection_id)})
        return pb.DeleteConnectionResponse()

    async def TestConnection(
        self, request: pb.TestConnectionRequest, context: Context
    ) -> pb.TestConnectionResponse:
        await require_role(context, Role.EDITOR)
        record = await self._get(context, request.connection_id)
        try:
            secrets = orjson.loads(
                self._keyring.open(record.sealed, connection_aad(record.org_id, record.id))
            )
        except SecretUnavailableError:
            return _refused("the stored credentials cannot be decrypted with the configured keys")
        missing = missing_secrets(record.type, secrets, record.parameters)
        if missing:
            return _refused(f"missing secret fields: {', '.join(missing)}")
        if self._runtime is None or not _declares_test(self._runtime, record):
            # Nothing to call: the required fields are there, which is all we can say.
            return pb.TestConnectionResponse(ok=True, presence_only=True)
        try:
            label = await self._run_test(self._runtime, record, secrets)
        except errors.ConnectorError as exc:
            failure = Error(type=exc.error_type.value, message=exc.message)
            return pb.TestConnectionResponse(ok=False, error=failure)
        return pb.TestConnectionResponse(ok=True, account_label=label)

    async def _run_test(
        self, runtime: ConnectorRuntime, record: ConnectionRecord, secrets: dict[str, str]
    ) -> str:
        oauth = self._oauth
        if oauth is not None and uses_authorization_code(record.type, record.parameters):
            if oauth.expiring(record.expires_at):
                secrets = await oauth.fresh(record.org_id, record.id, secrets)
            connection = oauth.connection(record, secrets)
        else:
            connection = Connection(record.type, dict(record.parameters), secrets)
        return await runtime.test_connection(record.app, connection)

    async def StartOAuthAuthorization(
        self, request: pb.StartOAuthAuthorizationRequest, context: Context
    ) -> pb.StartOAuthAuthorizationResponse:
        principal = await require_role(context, Role.EDITOR)
        connection_id = await parse_id(context, request.connection_id, "connection_id")
        oauth = await self._flows(context)
        try:
            started = await oauth.start(principal.org_id, connection_id, request.redirect_uri)
        except FlowRefusedError as exc:
            await _answer_refusal(context, exc)
        log.info("oauth authorization started", extra={"connection": str(connection_id)})
        return pb.StartOAuthAuthorizationResponse(
            authorization_url=started.url,
            state=started.state,
            expires_at=timestamp(started.expires_at),
        )

    async def CompleteOAuthAuthorization(
        self, request: pb.CompleteOAuthAuthorizationRequest, context: Context
    ) -> pb.CompleteOAuthAuthorizationResponse:
        principal = await require_role(context, Role.EDITOR)
        oauth = await self._flows(context)
        try:
            record = await oauth.complete(principal.org_id, request.state, request.code)
        except FlowRefusedError as exc:
            await _answer_refusal(context, exc)
        log.info("oauth authorization completed", extra={"connection": str(record.id)})
        return pb.CompleteOAuthAuthorizationResponse(connection=connection_message(record))

    async def _flows(self, context: Context) -> OAuthFlows:
        if self._oauth is None:
            await abort(context, grpc.StatusCode.UNIMPLEMENTED, "OAuth flows are not configured")
        return self._oauth


async def _answer_refusal(context: Context, exc: FlowRefusedError) -> NoReturn:
    if exc.code == grpc.StatusCode.INVALID_ARGUMENT:
        await abort_invalid(context, exc.message, [(exc.field, exc.message)])
    await abort(context, exc.code, exc.message)


def _declares_test(runtime: ConnectorRuntime, record: ConnectionRecord) -> bool:
    """Whether the app has a test call for this kind of connection.

    The call is written for the app's own connection types; a connection of another type (or
    of an app no longer installed) gets the presence check only."""
    try:
        spec = runtime.registry.connector(record.app).spec
    except errors.ConnectorError:
        return False
    return spec.connection_test is not None and spec.connection_type(record.type) is not None


def _refused(message: str) -> pb.TestConnectionResponse:
    return pb.TestConnectionResponse(ok=False, error=Error(type="AuthError", message=message))
