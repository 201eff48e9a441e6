"""Is this scenario the caller's? The orchestrator decides, asked with the caller's own token.

The trigger does not own scenarios, so before a webhook or schedule is bound to a scenario id it
calls the orchestrator's `ScenarioService.GetScenario` forwarding the `authorization` metadata of
the incoming call: another organization's scenario (or none at all) is NOT_FOUND exactly as the
orchestrator answers it. Nothing is cached: every answer belongs to one caller and one moment.

Where the orchestrator is: in standalone mode in this very process, reached through the process's
own gRPC port (`host.shared["grpc_port"]`, known only once the host has bound it, hence looked up
per call); in distributed mode at `settings.orchestrator_target`. When the orchestrator cannot be
asked the call fails UNAVAILABLE: binding to an unchecked scenario is what this module prevents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_observability.grpc_tracing import client_interceptors
from scenarist_runtime.settings import ServiceSettings

Context = grpc.aio.ServicerContext[Any, Any]
CHECK_TIMEOUT_SECONDS = 5.0
SHARED_KEY = "trigger.scenario_check"  # tests hosting the trigger alone put a stand-in here
# Codes of the orchestrator that are an answer about the caller, passed on as they are.
_CALLER_CODES = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - matched, not bound


class ScenarioCheck(Protocol):
    async def require(self, context: Context, scenario_id: uuid.UUID) -> None:
        """Return when the caller may use `scenario_id`; otherwise abort the call."""
        ...


def caller_authorization(context: Context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key.lower() == "authorization":
            return value.decode() if isinstance(value, bytes) else value
    return None


class OrchestratorScenarioCheck:
    """Asks the orchestrator at `target()`; the channel is kept per target, answers are not."""

    def __init__(
        self, target: Callable[[], str], *, timeout_seconds: float = CHECK_TIMEOUT_SECONDS
    ) -> None:
        self._target = target
        self._timeout = timeout_seconds
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self) -> scenario_service_pb2_grpc.ScenarioServiceAsyncStub:
        target = self._target()
        channel = self._channels.get(target)
        if channel is None:
            channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors())
            self._channels[target] = channel
        return scenario_service_pb2_grpc.ScenarioServiceStub(channel)

    def _deadline(self, context: Context) -> float:
        remaining = context.time_remaining()
        return self._timeout if remaining is None else max(0.1, min(self._timeout, remaining))

    async def require(self, context: Context, scenario_id: uuid.UUID) -> None:
        authorization = caller_authorization(context)
        if authorization is None:  # the interceptor lets no such call through; stay closed anyway
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing API token")
        code, details = await self._ask(str(authorization), scenario_id, context)
        if code is None:
            return
        if code in _CALLER_CODES:
            await context.abort(code, details or "scenario not found")
        await context.abort(
            grpc.StatusCode.UNAVAILABLE,
            f"cannot check the scenario with the orchestrator ({code.name}); try again",
        )

    async def _ask(
        self, authorization: str, scenario_id: uuid.UUID, context: Context
    ) -> tuple[grpc.StatusCode | None, str]:
        """The orchestrator's status code for the caller's GetScenario (None: it is theirs)."""
        try:
            await self._stub().GetScenario(
                scenario_service_pb2.GetScenarioRequest(scenario_id=str(scenario_id)),
                metadata=(("authorization", authorization),),
                timeout=self._deadline(context),
            )
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        except RuntimeError:  # no port bound yet: the host is still starting
            return grpc.StatusCode.UNAVAILABLE, ""
        return None, ""

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()


def own_port_target(settings: ServiceSettings, shared: Mapping[str, Any]) -> Callable[[], str]:
    """This process's gRPC server, where a standalone host serves the orchestrator's API."""

    def target() -> str:
        port = shared.get("grpc_port")
        if not isinstance(port, int) or port <= 0:
            raise RuntimeError("the host has not bound its gRPC port yet")
        host = settings.grpc_host
        if host in _WILDCARD_HOSTS:
            host = "127.0.0.1"
        elif ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{host}:{port}"

    return target


def orchestrator_check(settings: ServiceSettings, shared: Mapping[str, Any]) -> ScenarioCheck:
    """The check for this host: a stand-in from `shared[SHARED_KEY]`, else the orchestrator in
    this process (standalone) or at `settings.orchestrator_target` (distributed)."""
    injected = shared.get(SHARED_KEY)
    if injected is not None:
        return injected  # type: ignore[no-any-return]
    if settings.mode == "standalone":
        return OrchestratorScenarioCheck(own_port_target(settings, shared))
    target = settings.orchestrator_target
    return OrchestratorScenarioCheck(lambda: target)
