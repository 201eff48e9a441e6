"""The gRPC clients the studio uses on a user's behalf: one channel per target, per-call token.

Every call carries the user's own service token (`authorization: Bearer …`), so the service
that answers applies its organization scoping and role checks exactly as for any other client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from scenarist.connector.v1 import connection_service_pb2_grpc, connector_service_pb2_grpc
from scenarist.identity.v1 import organization_service_pb2_grpc, token_service_pb2_grpc
from scenarist.log.v1 import log_service_pb2_grpc
from scenarist.run.v1 import run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2_grpc
from scenarist.trigger.v1 import schedule_service_pb2_grpc, webhook_service_pb2_grpc
from scenarist_observability.grpc_tracing import client_interceptors

from scenarist_studio.problems import from_rpc_error

__all__ = ["Clients", "Targets"]

Response = TypeVar("Response")


@dataclass(frozen=True)
class Targets:
    orchestrator: str
    log: str
    trigger: str
    connector_gateway: str


class Clients:
    def __init__(self, targets: Targets, timeout_seconds: float) -> None:
        self._timeout = timeout_seconds
        self._channels: dict[str, grpc.aio.Channel] = {}
        orchestrator = self._channel(targets.orchestrator)
        self.scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(orchestrator)
        self.runs = run_service_pb2_grpc.RunServiceStub(orchestrator)
        self.tokens = token_service_pb2_grpc.TokenServiceStub(orchestrator)
        self.organizations = organization_service_pb2_grpc.OrganizationServiceStub(orchestrator)
        self.logs = log_service_pb2_grpc.LogServiceStub(self._channel(targets.log))
        trigger = self._channel(targets.trigger)
        self.webhooks = webhook_service_pb2_grpc.WebhookServiceStub(trigger)
        self.schedules = schedule_service_pb2_grpc.ScheduleServiceStub(trigger)
        gateway = self._channel(targets.connector_gateway)
        self.connectors = connector_service_pb2_grpc.ConnectorServiceStub(gateway)
        self.connections = connection_service_pb2_grpc.ConnectionServiceStub(gateway)

    def _channel(self, target: str) -> grpc.aio.Channel:
        if target not in self._channels:
            self._channels[target] = grpc.aio.insecure_channel(
                target, interceptors=client_interceptors()
            )
        return self._channels[target]

    async def call(
        self, method: Callable[..., Awaitable[Response]], request: Any, token: str
    ) -> Response:
        """`method(request)` as the token's principal; gRPC failures become ApiError."""
        try:
            return await method(
                request, metadata=(("authorization", f"Bearer {token}"),), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error

    async def stream(
        self, method: Callable[..., Any], request: Any, token: str, timeout: float
    ) -> AsyncIterator[Any]:
        """A server-streaming call as the token's principal; gRPC failures become ApiError.
        Closing the iterator cancels the call."""
        call = method(request, metadata=(("authorization", f"Bearer {token}"),), timeout=timeout)
        try:
            async for item in call:
                yield item
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(None)
