"""The whole stack in one process and what the connector end-to-end tests call it with (a
plain module with a unique name, so test modules of several directories share one session)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from scenarist.connector.v1 import connection_service_pb2, connection_service_pb2_grpc
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_runtime.host import Hosted

FINAL = {
    run_pb2.RunStatus.RUN_STATUS_SUCCESS,
    run_pb2.RunStatus.RUN_STATUS_WARNING,
    run_pb2.RunStatus.RUN_STATUS_ERROR,
    run_pb2.RunStatus.RUN_STATUS_CANCELLED,
}

Metadata = tuple[tuple[str, str], ...]


@dataclass
class Stack:
    hosted: Hosted
    channel: grpc.aio.Channel
    org_id: uuid.UUID
    token: str

    @classmethod
    @asynccontextmanager
    async def connect(cls, hosted: Hosted, org_id: uuid.UUID, token: str) -> AsyncIterator[Stack]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            yield cls(hosted, channel, org_id, token)

    @property
    def auth(self) -> Metadata:
        return (("authorization", f"Bearer {self.token}"),)

    async def api_key_connection(self, key: str, header: str = "X-Api-Key") -> str:
        stub = connection_service_pb2_grpc.ConnectionServiceStub(self.channel)
        response = await stub.CreateConnection(
            connection_service_pb2.CreateConnectionRequest(
                app="http",
                type=ConnectionType.CONNECTION_TYPE_API_KEY,
                name="fake API",
                parameters={"name": header, "placement": "header"},
                secrets={"api_key": key},
            ),
            metadata=self.auth,
        )
        return str(response.connection.id)

    async def run(self, document: dict[str, Any], data: dict[str, Any]) -> Any:
        """Create the scenario, start a run with `data` as the trigger bundle, await its end."""
        scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(self.channel)
        created = await scenarios.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=json.dumps(document)),
            metadata=self.auth,
        )
        runs = run_service_pb2_grpc.RunServiceStub(self.channel)
        started = await runs.StartRun(
            run_service_pb2.StartRunRequest(
                scenario_id=created.scenario.id, input=json.dumps(data)
            ),
            metadata=self.auth,
        )
        return await self.finished(started.run.id)

    async def finished(self, run_id: str, attempts: int = 600) -> Any:
        runs = run_service_pb2_grpc.RunServiceStub(self.channel)

        async def final() -> Any:
            got = await runs.GetRun(
                run_service_pb2.GetRunRequest(run_id=run_id), metadata=self.auth
            )
            return got.run if got.run.status in FINAL else None

        return await poll(final, attempts, f"run {run_id} did not finish")

    async def steps(self, run_id: str, module_id: int, count: int = 1) -> list[Any]:
        """The run log's steps of `module_id`, once `count` of them arrived."""
        logs = log_service_pb2_grpc.LogServiceStub(self.channel)

        async def found() -> list[Any] | None:
            page = await logs.GetRunLog(
                log_service_pb2.GetRunLogRequest(run_id=run_id, page_size=1000),
                metadata=self.auth,
            )
            mine = [s for s in page.steps if s.module_id == module_id]
            return mine if len(mine) >= count else None

        steps: list[Any] = await poll(found, 300, f"no {count} steps of module {module_id}")
        return steps

    async def run_log_text(self, run_id: str) -> str:
        logs = log_service_pb2_grpc.LogServiceStub(self.channel)
        page = await logs.GetRunLog(
            log_service_pb2.GetRunLogRequest(run_id=run_id, page_size=1000), metadata=self.auth
        )
        return str(page)


StartStack = Callable[..., Awaitable[Stack]]


async def poll(check: Callable[[], Awaitable[Any]], attempts: int, failure: str) -> Any:
    for _ in range(attempts):
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(failure)
