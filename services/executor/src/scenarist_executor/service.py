"""The executor service: a member of the executor consumer group running module tasks.

App modules go to the connector gateway (apps.py): in-process when the gateway is hosted in the
same process (`host.shared["connector_execute"]`, looked up per call since the gateway may start
after the executor), else over gRPC to SCENARIST_GATEWAY_TARGET, the gateway's internal port,
authenticated with SCENARIST_INTERNAL_SECRET (docs/adr/0005-connector-execution.md; the client
is `scenarist_runtime.gateway`, shared with the trigger service's polling).
SCENARIST_GATEWAY_TRANSPORT=grpc takes the gRPC path even when the gateway is in the process.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from scenarist_runtime.claim_check import claim_checks
from scenarist_runtime.gateway import GatewayClientSettings, gateway_execute
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import load_settings

from scenarist_executor.apps import AppModuleRunner
from scenarist_executor.loop import GATHER_MS, ExecutorLoop
from scenarist_executor.worker import TaskWorker


class ExecutorSettings(GatewayClientSettings):
    # Above the gateway's HTTP timeout (40 s) plus its bounded rate-limit wait.
    gateway_timeout_seconds: float = Field(default=60.0, gt=0)
    # Tasks one executor runs at once (SCENARIST_EXECUTOR_CONCURRENCY): a window of up to this
    # many, a freed slot taking the next task from Kafka at once. Lower it when one replica must
    # not hold more calls in flight than its downstreams or its memory allow; scale out with
    # replicas.
    executor_concurrency: int = Field(default=64, ge=1, le=1024)
    # How long a finished task's result may wait for the tasks that were running beside it, so
    # a fan-out's wave leaves in one produce (see ExecutorLoop); 0 sends each as soon as it can.
    executor_result_gather_ms: int = Field(default=GATHER_MS, ge=0, le=1000)


@dataclass
class ExecutorService:
    name: str = "executor"

    async def start(self, host: ServiceHost) -> None:
        settings = load_settings(ExecutorSettings, overrides=dict(host.settings))
        apps = AppModuleRunner(
            gateway_execute(host, settings), timeout=settings.gateway_timeout_seconds
        )
        loop = ExecutorLoop(
            host.bus,
            TaskWorker(apps=apps, claims=claim_checks(host)),
            batch_size=settings.executor_concurrency,
            gather_ms=settings.executor_result_gather_ms,
        )
        host.lifecycle.supervise(loop.run(host.lifecycle.stopping), name="executor loop")


def build() -> ExecutorService:
    return ExecutorService()
