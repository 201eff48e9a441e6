"""The executor's side of app modules: inputs, connection parameters and failure mapping."""

from __future__ import annotations

from typing import Any

import grpc
import orjson
import pytest
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_engine.machine import ModuleTask
from scenarist_engine.machine.state import Execution
from scenarist_engine.model import Module
from scenarist_executor.apps import AppModuleRunner

ORG = "6c1c8d1e-4f53-4f2e-9d5c-2f9c9a6d0c11"


def task(module: dict[str, Any], attempt: int = 1) -> ModuleTask:
    return ModuleTask(
        run_id="run-1",
        task_id="t-7",
        module_id=module["id"],
        module=module,
        path={1: {"name": "Ada"}},
        variables={},
        persistent={},
        attempt=attempt,
        execution=Execution("run-1", "scn-1", "UTC", 0.0),
    )


class Gateway:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[pb.ExecuteModuleRequest] = []
        self.timeouts: list[float | None] = []

    async def __call__(
        self, request: pb.ExecuteModuleRequest, timeout: float | None = None
    ) -> pb.ExecuteModuleResponse:
        self.requests.append(request)
        self.timeouts.append(timeout)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]


async def run(module: dict[str, Any], gateway: Gateway | None, attempt: int = 1) -> Any:
    runner = AppModuleRunner(lambda: gateway, timeout=12.0, clock=lambda: 100.0)
    return await runner.run(Module.model_validate(module), task(module, attempt), ORG)


MODULE = {
    "id": 2,
    "module": "http:MakeRequest",
    "parameters": {"__IMTCONN__": "conn-1", "handleErrors": True},
    "mapper": {"url": "https://api.example/{{lower(1.name)}}"},
}


async def test_the_request_carries_inputs_connection_and_run() -> None:
    gateway = Gateway(pb.ExecuteModuleResponse(bundles='[{"ok": true}]'))
    result = await run(MODULE, gateway, attempt=2)
    assert result.error is None and result.bundles == [{"ok": True}]
    [request] = gateway.requests
    assert (request.app, request.module, request.connection_id) == (
        "http",
        "MakeRequest",
        "conn-1",
    )
    inputs = {"url": "https://api.example/ada", "handleErrors": True}
    assert orjson.loads(request.inputs) == inputs and result.inputs == inputs
    assert request.run.organization_id == ORG and request.run.scenario_id == "scn-1"
    assert request.run.attempt == 2 and request.run.idempotency_key == "run-1/2/t-7/2"
    assert gateway.timeouts == [12.0]


async def test_a_module_error_keeps_its_type_and_retry_after() -> None:
    failure = pb.ModuleError(type="RateLimitError", message="slow down")
    failure.retry_after.FromNanoseconds(1_500_000_000)
    result = await run(MODULE, Gateway(pb.ExecuteModuleResponse(error=failure)))
    assert (result.error.type, result.error.message) == ("RateLimitError", "slow down")
    assert result.error.retry_after == 1.5


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    empty = grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, empty, empty, "no", None)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.UNAVAILABLE, "ConnectionError"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "ConnectionError"),
        (grpc.StatusCode.UNAUTHENTICATED, "ConnectionError"),
        (grpc.StatusCode.NOT_FOUND, "InvalidConfigurationError"),
        (grpc.StatusCode.INVALID_ARGUMENT, "InvalidConfigurationError"),
    ],
)
async def test_call_failures_map_to_error_types(code: grpc.StatusCode, kind: str) -> None:
    result = await run(MODULE, Gateway(rpc_error(code)))
    assert result.error.type == kind and code.name in result.error.message


async def test_without_a_gateway_the_module_fails_retryably() -> None:
    result = await run(MODULE, None)
    assert result.error.type == "ConnectionError"


async def test_expression_errors_are_data_errors_and_nothing_is_sent() -> None:
    gateway = Gateway(pb.ExecuteModuleResponse(bundles="[]"))
    broken = {**MODULE, "mapper": {"url": "{{lower(}}"}}
    result = await run(broken, gateway)
    assert result.error.type == "DataError" and gateway.requests == []


async def test_two_different_connections_are_a_configuration_error() -> None:
    gateway = Gateway(pb.ExecuteModuleResponse(bundles="[]"))
    both = {**MODULE, "parameters": {"__IMTCONN__": "a", "connection": "b"}}
    result = await run(both, gateway)
    assert result.error.type == "InvalidConfigurationError" and gateway.requests == []


async def test_malformed_bundles_fail_the_module() -> None:
    result = await run(MODULE, Gateway(pb.ExecuteModuleResponse(bundles='{"a": 1}')))
    assert result.error.type == "RuntimeError"
