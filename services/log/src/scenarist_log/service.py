"""The log service: consumes logs.steps and runs.events into the history and serves LogService.

Settings (environment): SCENARIST_LOG_RETENTION_DAYS (default 30) and
SCENARIST_LOG_RETENTION_INTERVAL_SECONDS (default 3600).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field
from scenarist.log.v1 import log_service_pb2_grpc
from scenarist_runtime.claim_check import claim_checks
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import ServiceSettings, load_settings
from scenarist_storage.pg import PgLogStore

from scenarist_log.api import LogServicer
from scenarist_log.loops import events_loop, steps_loop
from scenarist_log.retention import RetentionLoop

SCHEMA = "log"


class LogSettings(ServiceSettings):
    log_retention_days: float = Field(default=30.0, gt=0)
    log_retention_interval_seconds: float = Field(default=3600.0, gt=0)


@dataclass
class LogService:
    name: str = "log"
    settings: LogSettings | None = None

    async def start(self, host: ServiceHost) -> None:
        settings = self.settings or load_settings(LogSettings)
        logs = PgLogStore(host.pool, SCHEMA)
        claims = claim_checks(host)
        log_service_pb2_grpc.add_LogServiceServicer_to_server(
            LogServicer(logs, claims), host.grpc_server
        )

        async def database() -> None:
            await host.pool.fetchval("SELECT 1")

        host.lifecycle.health.add("log-postgres", database)
        for loop in (steps_loop(host.bus, logs), events_loop(host.bus, logs)):
            host.lifecycle.supervise(loop.run(host.lifecycle.stopping), name=f"log {loop.topic}")
        retention = RetentionLoop(
            logs,
            max_age=timedelta(days=settings.log_retention_days),
            interval_seconds=settings.log_retention_interval_seconds,
            claims=claims.store,
        )
        host.lifecycle.spawn(retention.run(host.lifecycle.stopping), name="log retention")


def build() -> LogService:
    return LogService()
