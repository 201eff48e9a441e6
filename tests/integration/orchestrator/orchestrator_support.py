"""A hosted orchestrator + executor and the stubs and tokens to call it as two organizations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status
from pydantic import SecretStr
from scenarist.identity.v1 import (
    organization_service_pb2_grpc,
    token_service_pb2_grpc,
)
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_runtime.host import Hosted
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role

T = TypeVar("T")

GREETING = """\
name: Greeting
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:ComposeTransformer, mapper: {value: "Hello {{1.name}}"}}
  - id: 3
    module: gateway:WebhookRespond
    mapper: {status: "200", body: "{{2.value}}"}
"""

INVALID = """\
name: Broken
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:ComposeTransformer, mapper: {value: "{{9.missing}}"}}
  - {id: 3, module: nope:Unknown}
"""

FINAL = {
    run_pb2.RunStatus.RUN_STATUS_SUCCESS,
    run_pb2.RunStatus.RUN_STATUS_WARNING,
    run_pb2.RunStatus.RUN_STATUS_ERROR,
    run_pb2.RunStatus.RUN_STATUS_CANCELLED,
}


def standalone_settings(dsn: str) -> ServiceSettings:
    return ServiceSettings(
        service_name="orchestrator+executor",
        mode="standalone",
        http_port=0,
        grpc_port=0,
        postgres_dsn=SecretStr(dsn),
        drain_timeout_seconds=5.0,
    )


@dataclass(frozen=True)
class Tenant:
    org_id: uuid.UUID
    tokens: dict[Role, str]

    def auth(self, role: Role = Role.OWNER) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[role]}"),)


@dataclass
class Stack:
    hosted: Hosted
    channel: grpc.aio.Channel
    acme: Tenant
    globex: Tenant

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.hosted.grpc_port}"

    @classmethod
    @asynccontextmanager
    async def connect(cls, hosted: Hosted, acme: Tenant, globex: Tenant) -> AsyncIterator[Stack]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
            yield cls(hosted, channel, acme, globex)

    @property
    def scenarios(self) -> Any:
        return scenario_service_pb2_grpc.ScenarioServiceStub(self.channel)

    @property
    def runs(self) -> Any:
        return run_service_pb2_grpc.RunServiceStub(self.channel)

    @property
    def organizations(self) -> Any:
        return organization_service_pb2_grpc.OrganizationServiceStub(self.channel)

    @property
    def tokens(self) -> Any:
        return token_service_pb2_grpc.TokenServiceStub(self.channel)

    async def create_scenario(self, tenant: Tenant, document: str = GREETING) -> Any:
        response = await self.scenarios.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=document),
            metadata=tenant.auth(Role.EDITOR),
        )
        return response.scenario

    async def start_run(self, tenant: Tenant, scenario_id: str, data: str = "{}") -> Any:
        response = await self.runs.StartRun(
            run_service_pb2.StartRunRequest(scenario_id=scenario_id, input=data),
            metadata=tenant.auth(Role.EDITOR),
        )
        return response.run

    async def finished_run(self, tenant: Tenant, run_id: str, attempts: int = 300) -> Any:
        """Poll GetRun (bounded) until the run reached a final status."""
        for _ in range(attempts):
            run = (
                await self.runs.GetRun(
                    run_service_pb2.GetRunRequest(run_id=run_id), metadata=tenant.auth()
                )
            ).run
            if run.status in FINAL:
                return run
            await _pause()
        raise AssertionError(f"run {run_id} did not finish after {attempts} polls")


async def _pause() -> None:
    await asyncio.sleep(0.05)


async def rpc_error(call: Awaitable[T]) -> grpc.aio.AioRpcError:
    """The error a call fails with (the test fails if it succeeds)."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


def violations(error: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]  # an aio call is a Call too
    assert status is not None, "no rich status details"
    found: list[tuple[str, str]] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        found.extend((v.field, v.description) for v in bad_request.field_violations)
    return found


async def refused(call: Callable[[], Awaitable[Any]], *codes: grpc.StatusCode) -> grpc.StatusCode:
    """Run `call`, expect one of `codes`, return the code it failed with."""
    error = await rpc_error(call())
    assert error.code() in codes, (error.code(), error.details())
    return error.code()
