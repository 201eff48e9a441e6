"""Hosting services: a process hosts one service (distributed mode) or all five (standalone).

A service is found by name through the `scenarist.services` entry point group and gets a
`ServiceHost`: the bus, a Postgres pool, the process's gRPC server and HTTP routes, health
checks, the lifecycle and an authenticator. Services never import each other; what one offers
another in the same process (the token authenticator) travels through `ServiceHost.shared`.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from scenarist_bus import topics
from scenarist_bus.port import Bus
from scenarist_observability.grpc_tracing import TracingServerInterceptor
from scenarist_observability.metrics import METRICS, set_build_info
from scenarist_observability.tracing import service_scope
from scenarist_storage.models import Principal
from scenarist_storage.postgres import Pool, pool_usage
from starlette.routing import BaseRoute

from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "scenarist.services"
ALL_SERVICES = ("orchestrator", "executor", "trigger", "log", "connector_gateway")
# Which service serves each gRPC package, so a process hosting several services can tell their
# server spans apart (the span resource names the process, not the service).
GRPC_PACKAGE_OWNERS = {
    "scenarist.identity.v1": "orchestrator",
    "scenarist.scenario.v1": "orchestrator",
    "scenarist.run.v1": "orchestrator",
    "scenarist.trigger.v1": "trigger",
    "scenarist.log.v1": "log",
    "scenarist.connector.v1": "connector_gateway",
}


class Authenticator(Protocol):
    async def authenticate(self, secret: str) -> Principal | None: ...


class Service(Protocol):
    """What every service module's `build()` returns."""

    name: str

    async def start(self, host: ServiceHost) -> None:
        """Register gRPC servicers and HTTP routes, and spawn consumer loops on the lifecycle."""
        ...


@dataclass
class ServiceHost:
    settings: ServiceSettings
    lifecycle: Lifecycle
    bus: Bus
    pool: Pool
    grpc_server: grpc.aio.Server
    routes: list[BaseRoute] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def authenticator(self) -> Authenticator:
        found = self.shared.get("authenticator")
        if found is None:
            raise RuntimeError("no authenticator: host the orchestrator or configure a remote one")
        return found  # type: ignore[no-any-return]


def available_services() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def load_services(names: Sequence[str]) -> list[Service]:
    found = available_services()
    missing = [name for name in names if name not in found]
    if missing:
        raise LookupError(f"unknown services {missing}; installed: {sorted(found)}")
    return [found[name].load()() for name in names]


async def create_topics(bus: Bus) -> None:
    await bus.create_topics(topics.ALL_TOPICS)


def service_of_method(method: str) -> str | None:
    """The service owning a full gRPC method name (``/pkg.Service/Method``), if it is ours."""
    package = method.lstrip("/").partition("/")[0].rpartition(".")[0]
    return GRPC_PACKAGE_OWNERS.get(package)


def grpc_server(
    interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]] = (),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Server:
    return grpc.aio.server(
        interceptors=[TracingServerInterceptor(service_of=service_of_method), *interceptors],
        options=[
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
            ("grpc.max_send_message_length", 16 * 1024 * 1024),
            *options,
        ],
    )


def make_bus(settings: ServiceSettings) -> Bus:
    if settings.mode == "standalone":
        from scenarist_bus.local import LocalBus  # noqa: PLC0415 - no Kafka client needed

        return LocalBus()
    from scenarist_bus.kafka import KafkaBus  # noqa: PLC0415 - imports aiokafka

    return KafkaBus(settings.kafka_bootstrap)


@dataclass
class Hosted:
    """A running host: what tests and the standalone launcher need to reach it."""

    host: ServiceHost
    grpc_port: int
    http_url: str


async def start_host(
    names: Sequence[str],
    settings: ServiceSettings,
    lifecycle: Lifecycle,
    *,
    bus: Bus | None = None,
    shared: dict[str, Any] | None = None,
) -> Hosted:
    """Start `names` in this process; shutdown hooks are registered on `lifecycle`."""
    from scenarist_storage.postgres import create_pool, migrate_all  # noqa: PLC0415

    from scenarist_runtime.auth import AuthInterceptor  # noqa: PLC0415 - auth imports host
    from scenarist_runtime.http import HttpServer, build_app  # noqa: PLC0415

    bus = bus or make_bus(settings)
    lifecycle.add_shutdown_hook(bus.close, name="bus")
    await create_topics(bus)
    pool = await create_pool(settings.postgres_dsn.get_secret_value(), min_size=1, max_size=10)
    lifecycle.add_shutdown_hook(pool.close, name="postgres pool")
    if settings.mode == "standalone":
        await migrate_all(pool)
    holder: dict[str, Any] = shared if shared is not None else {}
    server = grpc_server([AuthInterceptor(lambda: _authenticator(holder))])
    host = ServiceHost(settings, lifecycle, bus, pool, server, shared=holder)
    _observe_pool(pool, settings.service_name, lifecycle)
    for service in load_services(names):
        set_build_info(service.name, settings.version)
        # Spans of the tasks a service spawns while starting carry its name (standalone mode
        # shares one process, and so one trace resource, between all five).
        with service_scope(service.name):
            await service.start(host)
    if "authenticator" not in holder:
        # No orchestrator in this process: check tokens with the one that owns identity.
        from scenarist_runtime.remote_auth import RemoteAuthenticator  # noqa: PLC0415

        remote = RemoteAuthenticator(settings.orchestrator_target)
        holder["authenticator"] = remote
        lifecycle.add_shutdown_hook(remote.close, name="remote authenticator")
    grpc_port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    # Services that call another one hosted in this process over gRPC (the trigger asks the
    # orchestrator with the caller's token) find the bound port here; port 0 binds at random.
    holder["grpc_port"] = grpc_port
    await server.start()
    lifecycle.add_shutdown_hook(lambda: server.stop(5.0), name="grpc server")
    http = HttpServer(
        build_app(lifecycle.health, host.routes), host=settings.http_host, port=settings.http_port
    )
    await http.start()
    lifecycle.add_shutdown_hook(http.shutdown, name="http server")
    lifecycle.set_ready()
    log.info(
        "services started",
        extra={"services": list(names), "grpc_port": grpc_port, "http": http.url},
    )
    return Hosted(host, grpc_port, http.url)


def _authenticator(shared: dict[str, Any]) -> Authenticator:
    found = shared.get("authenticator")
    if found is None:
        raise RuntimeError("no authenticator configured")
    return found  # type: ignore[no-any-return]


def _observe_pool(pool: Pool, service: str, lifecycle: Lifecycle) -> None:
    """Pool saturation gauges, read at scrape time (no sampling task, always current)."""
    if pool_usage(pool) is None:
        return

    def usage(index: int) -> float:
        found = pool_usage(pool)
        return float(found[index]) if found is not None else 0.0

    METRICS.db_pool_in_use.labels(service).set_function(lambda: usage(0))
    METRICS.db_pool_size.labels(service).set_function(lambda: usage(1))

    async def forget() -> None:
        for gauge in (METRICS.db_pool_in_use, METRICS.db_pool_size):
            try:
                gauge.remove(service)
            except KeyError:
                continue

    lifecycle.add_shutdown_hook(forget, name="pool metrics")
