"""The internal port: ExecuteModule for executors, authenticated by a shared secret.

ExecuteModule acts with an organization's stored credentials for the organization named in the
request, so no API token may call it (the public port refuses it). Executors call it here,
on a port of its own that network policy can close to everyone but them, sending
``authorization: Bearer <SCENARIST_INTERNAL_SECRET>``; nothing else is served on this port.
See docs/adr/0005-connector-execution.md.
"""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist.connector.v1 import connector_service_pb2_grpc as pb_grpc
from scenarist_runtime.auth import bearer_token
from scenarist_runtime.host import grpc_server
from scenarist_runtime.rpc import Context, abort

from scenarist_connector_gateway.execution import CallRefusedError, ModuleRunner

log = logging.getLogger(__name__)

EXECUTE_METHOD = "/scenarist.connector.v1.ConnectorService/ExecuteModule"


class SharedSecretInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Only ExecuteModule, and only with the shared secret (compared in constant time)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        token = bearer_token(details.invocation_metadata) or ""
        if details.method != EXECUTE_METHOD:
            return _refusal(grpc.StatusCode.UNIMPLEMENTED, "only ExecuteModule is served here")
        if not hmac.compare_digest(token.encode(), self._secret):
            return _refusal(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong internal secret")
        return await continuation(details)


def _refusal(code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler[Any, Any]:
    async def refuse(request: Any, context: Context) -> Any:
        await abort(context, code, message)

    return grpc.unary_unary_rpc_method_handler(refuse)


class InternalConnectorServicer(pb_grpc.ConnectorServiceServicer):
    def __init__(self, runner: ModuleRunner) -> None:
        self._runner = runner

    async def ListApps(self, request: pb.ListAppsRequest, context: Context) -> pb.ListAppsResponse:
        await abort(context, grpc.StatusCode.UNIMPLEMENTED, "the catalogue is on the public port")

    async def ListModules(
        self, request: pb.ListModulesRequest, context: Context
    ) -> pb.ListModulesResponse:
        await abort(context, grpc.StatusCode.UNIMPLEMENTED, "the catalogue is on the public port")

    async def ExecuteModule(
        self, request: pb.ExecuteModuleRequest, context: Context
    ) -> pb.ExecuteModuleResponse:
        try:
            return await self._runner.execute(request, timeout=context.time_remaining())
        except CallRefusedError as exc:
            await abort(context, exc.code, exc.message)


# Callers spread their calls over every gateway their target resolves to (round robin) but
# resolve it again only when a connection ends: closing each connection after a while (calls in
# flight finish first; no grace limit) lets them find replicas added since.
INTERNAL_SERVER_OPTIONS = (("grpc.max_connection_age_ms", 5 * 60 * 1000),)


async def start_internal_server(
    runner: ModuleRunner, secret: str, host: str, port: int
) -> tuple[grpc.aio.Server, int]:
    """Serve ExecuteModule on ``host:port``; returns the server and the bound port."""
    server = grpc_server([SharedSecretInterceptor(secret)], options=INTERNAL_SERVER_OPTIONS)
    pb_grpc.add_ConnectorServiceServicer_to_server(InternalConnectorServicer(runner), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    log.info("internal ExecuteModule port open", extra={"grpc_port": bound})
    return server, bound
