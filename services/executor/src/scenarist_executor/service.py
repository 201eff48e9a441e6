"""The executor service: a member of the executor consumer group running module tasks."""

from __future__ import annotations

from dataclasses import dataclass

from scenarist_runtime.host import ServiceHost

from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker


@dataclass
class ExecutorService:
    name: str = "executor"

    async def start(self, host: ServiceHost) -> None:
        loop = ExecutorLoop(host.bus, TaskWorker())
        host.lifecycle.spawn(loop.run(host.lifecycle.stopping), name="executor loop")


def build() -> ExecutorService:
    return ExecutorService()
