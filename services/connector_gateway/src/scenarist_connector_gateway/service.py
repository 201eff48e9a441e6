"""The connector gateway service: ConnectorService, ConnectionService and DataStoreService.

Needs SCENARIST_SECRETS_KEY (see settings.py) in every mode: the standalone launcher generates
one into .scenarist/local.env; the gateway itself never invents or stores a key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scenarist.connector.v1 import (
    connection_service_pb2_grpc,
    connector_service_pb2_grpc,
    data_store_service_pb2_grpc,
)
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import load_settings
from scenarist_storage.pg.gateway import PgConnectionStore, PgDataStoreStore

from scenarist_connector_gateway.catalogue import builtin_catalogue
from scenarist_connector_gateway.connections import ConnectionServicer
from scenarist_connector_gateway.connector import ConnectorServicer
from scenarist_connector_gateway.data_stores import DataStoreServicer
from scenarist_connector_gateway.secrets import Keyring, rewrap
from scenarist_connector_gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

SCHEMA = "gateway"


@dataclass
class ConnectorGatewayService:
    name: str = "connector_gateway"
    settings: GatewaySettings | None = None

    async def start(self, host: ServiceHost) -> None:
        settings = self.settings or load_settings(GatewaySettings)
        keyring = Keyring.from_settings(settings)  # fails the start when no key is configured
        connections = PgConnectionStore(host.pool, SCHEMA)
        data_stores = PgDataStoreStore(host.pool, SCHEMA)
        server = host.grpc_server
        connector_service_pb2_grpc.add_ConnectorServiceServicer_to_server(
            ConnectorServicer(builtin_catalogue()), server
        )
        connection_service_pb2_grpc.add_ConnectionServiceServicer_to_server(
            ConnectionServicer(connections, keyring), server
        )
        data_store_service_pb2_grpc.add_DataStoreServiceServicer_to_server(
            DataStoreServicer(data_stores, settings), server
        )

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


def build() -> ConnectorGatewayService:
    return ConnectorGatewayService()
