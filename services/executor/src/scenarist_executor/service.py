"""The executor service: a member of the executor consumer group running module tasks.

App modules go to the connector gateway (apps.py): in-process when the gateway is hosted in the
same process (`host.shared["connector_execute"]`, looked up per call since the gateway may start
after the executor), else over gRPC to SCENARIST_GATEWAY_TARGET, the gateway's internal port,
authenticated with SCENARIST_INTERNAL_SECRET (docs/adr/0005-connector-execution.md).
SCENARIST_GATEWAY_TRANSPORT=grpc takes the gRPC path even when the gateway is in the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, SecretStr
from scenarist_runtime.claim_check import claim_checks
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import ServiceSettings, load_settings

from scenarist_executor.apps import AppModuleRunner, Execute, GatewayClient
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker

SHARED_EXECUTE = "connector_execute"


class ExecutorSettings(ServiceSettings):
    gateway_target: str = "127.0.0.1:50055"
    internal_secret: SecretStr | None = None
    # Above the gateway's HTTP timeout (40 s) plus its bounded rate-limit wait.
    gateway_timeout_seconds: float = Field(default=60.0, gt=0)
    # "auto": in-process when the gateway is hosted in this process, else gRPC; "grpc": always
    # the gateway's internal port (e.g. to exercise the distributed path in one process).
    gateway_transport: Literal["auto", "grpc"] = "auto"


@dataclass
class ExecutorService:
    name: str = "executor"

    async def start(self, host: ServiceHost) -> None:
        settings = load_settings(ExecutorSettings, overrides=dict(host.settings))
        remote: GatewayClient | None = None
        if settings.internal_secret is not None:
            remote = GatewayClient(
                settings.gateway_target, settings.internal_secret.get_secret_value()
            )
            host.lifecycle.add_shutdown_hook(remote.close, name="gateway channel")

        in_process = settings.gateway_transport == "auto"

        def gateway() -> Execute | None:
            local: Execute | None = host.shared.get(SHARED_EXECUTE) if in_process else None
            return local or remote

        apps = AppModuleRunner(gateway, timeout=settings.gateway_timeout_seconds)
        loop = ExecutorLoop(host.bus, TaskWorker(apps=apps, claims=claim_checks(host)))
        host.lifecycle.supervise(loop.run(host.lifecycle.stopping), name="executor loop")


def build() -> ExecutorService:
    return ExecutorService()
