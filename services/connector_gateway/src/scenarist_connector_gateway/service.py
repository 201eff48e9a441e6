"""The connector gateway service: ConnectorService, ConnectionService and DataStoreService.

Needs SCENARIST_SECRETS_KEY (see settings.py) in every mode: the standalone launcher generates
one into .scenarist/local.env; the gateway itself never invents or stores a key.

App modules run through one process-wide ConnectorRuntime (SSRF allow list and HTTP limits from
the settings, closed at shutdown). Executors reach it in two ways (docs/adr/0005):

- in the same process (standalone): `host.shared["connector_execute"]`, an
  `async (ExecuteModuleRequest, timeout: float | None) -> ExecuteModuleResponse` that raises
  `grpc.aio.AioRpcError` exactly where the gRPC call would fail;
- over gRPC (distributed): ExecuteModule on the internal port, with SCENARIST_INTERNAL_SECRET.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from scenarist.connector.v1 import (
    connection_service_pb2_grpc,
    connector_service_pb2,
    connector_service_pb2_grpc,
    data_store_service_pb2_grpc,
)
from scenarist_connector_sdk import ConnectorRuntime, HttpLimits, NetPolicy, RuntimeSettings
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import load_settings
from scenarist_storage.pg.gateway import PgConnectionStore, PgDataStoreStore

from scenarist_connector_gateway.apps import with_apps
from scenarist_connector_gateway.catalogue import builtin_catalogue
from scenarist_connector_gateway.connections import ConnectionServicer
from scenarist_connector_gateway.connector import ConnectorServicer
from scenarist_connector_gateway.data_stores import DataStoreServicer
from scenarist_connector_gateway.datastore_app import datastore_connector
from scenarist_connector_gateway.execution import CallRefusedError, ModuleRunner
from scenarist_connector_gateway.internal import start_internal_server
from scenarist_connector_gateway.limits import RateLimits, build_limiter, observe_redis_pool
from scenarist_connector_gateway.oauth import OAuthFlows
from scenarist_connector_gateway.oauth_store import PgOAuthStore
from scenarist_connector_gateway.secrets import Keyring, rewrap
from scenarist_connector_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

SCHEMA = "gateway"
SHARED_EXECUTE = "connector_execute"


def runtime_settings(settings: GatewaySettings) -> RuntimeSettings:
    return RuntimeSettings(
        allow=NetPolicy.parse(settings.connector_allow),
        limits=HttpLimits(
            timeout=settings.connector_timeout_seconds,
            connect_timeout=settings.connector_connect_timeout_seconds,
            max_response_bytes=settings.connector_max_response_bytes,
            max_redirects=settings.connector_max_redirects,
        ),
    )


def in_process_execute(runner: ModuleRunner) -> object:
    """The callable standalone executors use instead of a gRPC stub (same failures)."""

    async def execute(
        request: connector_service_pb2.ExecuteModuleRequest, timeout: float | None = None
    ) -> connector_service_pb2.ExecuteModuleResponse:
        try:
            return await runner.execute(request, timeout=timeout)
        except CallRefusedError as exc:
            empty = grpc.aio.Metadata()
            raise grpc.aio.AioRpcError(exc.code, empty, empty, exc.message, None) from None

    return execute


@dataclass
class ConnectorGatewayService:
    name: str = "connector_gateway"
    settings: GatewaySettings | None = None

    async def start(self, host: ServiceHost) -> None:
        settings = self.settings or load_settings(GatewaySettings, overrides=dict(host.settings))
        keyring = Keyring.from_settings(settings)  # fails the start when no key is configured
        connections = PgConnectionStore(host.pool, SCHEMA)
        data_stores = PgDataStoreStore(host.pool, SCHEMA)
        runner = self._runner(host, settings, connections, keyring, data_stores)
        server = host.grpc_server
        connector_service_pb2_grpc.add_ConnectorServiceServicer_to_server(
            ConnectorServicer(with_apps(builtin_catalogue(), runner.runtime.registry)), server
        )
        connection_service_pb2_grpc.add_ConnectionServiceServicer_to_server(
            ConnectionServicer(connections, keyring, runner.runtime, runner.oauth), server
        )
        data_store_service_pb2_grpc.add_DataStoreServiceServicer_to_server(
            DataStoreServicer(data_stores, settings), server
        )
        host.shared[SHARED_EXECUTE] = in_process_execute(runner)
        await self._internal_port(host, settings, runner)

        async def database() -> None:
            await host.pool.fetchval("SELECT 1")

        host.lifecycle.health.add("gateway-postgres", database)

        async def rewrap_stale_keys() -> None:
            # After a key rotation, move every data key under the new key in the background;
            # until then the previous key (still in the keyring) opens them.
            moved = await rewrap(connections, keyring)
            if moved:
                log.info("rewrapped connection data keys", extra={"connections": moved})

        host.lifecycle.spawn(rewrap_stale_keys(), name="gateway rewrap")

    @staticmethod
    def _runner(
        host: ServiceHost,
        settings: GatewaySettings,
        connections: PgConnectionStore,
        keyring: Keyring,
        data_stores: PgDataStoreStore,
    ) -> ModuleRunner:
        runtime = ConnectorRuntime(settings=runtime_settings(settings))
        # Gateway-native: the data store modules use the gateway's own stores (datastore_app.py).
        runtime.registry.register(
            datastore_connector(data_stores, max_records=settings.data_store_max_records)
        )
        host.lifecycle.add_shutdown_hook(runtime.aclose, name="connector runtime")
        for name, problem in runtime.registry.failures.items():
            log.error("connector not loaded", extra={"connector": name, "problem": problem})
        limiter = build_limiter(settings)
        host.lifecycle.add_shutdown_hook(limiter.aclose, name="rate limiter")
        forget_pool = observe_redis_pool(limiter, "connector_gateway")
        if forget_pool is not None:

            async def forget() -> None:
                forget_pool()

            host.lifecycle.add_shutdown_hook(forget, name="redis pool metrics")
        limits = RateLimits.from_settings(settings, runtime.registry)
        oauth = OAuthFlows(
            PgOAuthStore(host.pool, SCHEMA), connections, keyring, runtime.http, runtime.registry
        )
        return ModuleRunner(
            runtime,
            connections,
            keyring,
            limiter,
            limits,
            max_wait=settings.rate_limit_max_wait_seconds,
            oauth=oauth,
        )

    @staticmethod
    async def _internal_port(
        host: ServiceHost, settings: GatewaySettings, runner: ModuleRunner
    ) -> None:
        if settings.internal_secret is None:
            if settings.mode == "distributed":
                log.warning(
                    "SCENARIST_INTERNAL_SECRET is not set: executors in other processes cannot "
                    "run app modules (ExecuteModule's internal port stays closed)"
                )
            return
        server, port = await start_internal_server(
            runner,
            settings.internal_secret.get_secret_value(),
            settings.grpc_host,
            settings.gateway_internal_port,
        )
        host.shared["connector_internal_port"] = port
        host.lifecycle.add_shutdown_hook(lambda: server.stop(5.0), name="internal grpc server")


def build() -> ConnectorGatewayService:
    return ConnectorGatewayService()
