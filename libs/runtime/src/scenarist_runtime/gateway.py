"""Calling the connector gateway's ExecuteModule from another service (executor, trigger).

Two transports, one contract (docs/adr/0005-connector-execution.md):

- in the same process (standalone): the gateway puts ``host.shared["connector_execute"]``, an
  ``async (ExecuteModuleRequest, timeout) -> ExecuteModuleResponse`` raising
  ``grpc.aio.AioRpcError`` exactly where the RPC would fail;
- else gRPC to ``SCENARIST_GATEWAY_TARGET``, the gateway's internal port, authenticated with
  ``SCENARIST_INTERNAL_SECRET``. Calls go round robin over every address the target names or
  resolves to (``ipv4:10.0.0.1:50055,10.0.0.2:50055``, or ``dns:///`` a headless Service): one
  connection per gateway replica, where the default policy would send everything to the first.

:func:`gateway_execute` picks between them per call, since services start in any order and the
gateway may register its callable after the caller started.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import grpc
from pydantic import SecretStr
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist.connector.v1 import connector_service_pb2_grpc as pb_grpc
from scenarist_observability.grpc_tracing import client_interceptors

from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import ServiceSettings

__all__ = [
    "CONFIGURATION_CODES",
    "NO_GATEWAY",
    "SHARED_EXECUTE",
    "Execute",
    "GatewayClient",
    "GatewayClientSettings",
    "gateway_execute",
]

SHARED_EXECUTE = "connector_execute"
NO_GATEWAY = (
    "no connector gateway: host one in this process or set "
    "SCENARIST_INTERNAL_SECRET and SCENARIST_GATEWAY_TARGET"
)
# Statuses that say the call can never succeed as sent; anything else (gateway down, deadline,
# auth misconfigured between services) may pass once the deployment recovers.
CONFIGURATION_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


class GatewayClientSettings(ServiceSettings):
    """The settings of a service that runs app modules through the gateway."""

    gateway_target: str = "127.0.0.1:50055"
    internal_secret: SecretStr | None = None
    # "auto": in-process when the gateway is hosted in this process, else gRPC; "grpc": always
    # the gateway's internal port (e.g. to exercise the distributed path in one process).
    gateway_transport: Literal["auto", "grpc"] = "auto"


class Execute(Protocol):
    def __call__(
        self, request: pb.ExecuteModuleRequest, timeout: float | None = None
    ) -> Awaitable[pb.ExecuteModuleResponse]: ...


ROUND_ROBIN = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})


class GatewayClient:
    """ExecuteModule over gRPC, on the gateway's internal port(s)."""

    def __init__(self, target: str, secret: str) -> None:
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[("grpc.service_config", ROUND_ROBIN)],
            interceptors=client_interceptors(),
        )
        self._stub = pb_grpc.ConnectorServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {secret}"),)

    async def __call__(
        self, request: pb.ExecuteModuleRequest, timeout: float | None = None
    ) -> pb.ExecuteModuleResponse:
        response: pb.ExecuteModuleResponse = await self._stub.ExecuteModule(
            request, timeout=timeout, metadata=self._metadata
        )
        return response

    async def close(self) -> None:
        await self._channel.close(None)


def gateway_execute(
    host: ServiceHost, settings: GatewayClientSettings
) -> Callable[[], Execute | None]:
    """What to call ExecuteModule with right now: the in-process gateway when one is hosted here
    (and the transport is "auto"), else the gRPC client when a secret is set, else None. The
    client's channel is closed at shutdown."""
    remote: GatewayClient | None = None
    if settings.internal_secret is not None:
        remote = GatewayClient(settings.gateway_target, settings.internal_secret.get_secret_value())
        host.lifecycle.add_shutdown_hook(remote.close, name="gateway channel")
    in_process = settings.gateway_transport == "auto"

    def current() -> Execute | None:
        local: Execute | None = host.shared.get(SHARED_EXECUTE) if in_process else None
        return local or remote

    return current
