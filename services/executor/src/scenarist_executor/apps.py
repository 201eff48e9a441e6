"""App modules (every kind the engine does not know) run in the connector gateway.

The executor evaluates the mapper like for a built-in kind, then sends the inputs, the module's
connection and the run's identity to ``ConnectorService.ExecuteModule``: in the same process
through ``host.shared["connector_execute"]`` (standalone), else over gRPC on the gateway's
internal port with the shared internal secret (docs/adr/0005-connector-execution.md).

The connection is a module *parameter* (static, never mapped): ``__IMTCONN__`` as in Make's
blueprints, or ``connection`` in native documents. The module's other parameters are passed as
inputs too, under the evaluated mapper, as Make's modules read both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
import orjson
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_engine.errors import ErrorType, ExpressionError
from scenarist_engine.iml import evaluate_mapping
from scenarist_engine.iml.values import to_json_compatible
from scenarist_engine.machine import ModuleTask, TaskResult
from scenarist_engine.machine.execution import eval_context
from scenarist_engine.machine.state import ErrorInfo
from scenarist_engine.model import Module
from scenarist_runtime.gateway import CONFIGURATION_CODES, NO_GATEWAY, Execute

CONNECTION_PARAMETERS = ("__IMTCONN__", "connection")


class _FailedError(Exception):
    def __init__(self, error: ErrorInfo) -> None:
        self.error = error


def connection_of(module: Module) -> tuple[str, dict[str, Any]]:
    """The connection id the module names, and its other parameters."""
    found = [str(module.parameters[k]) for k in CONNECTION_PARAMETERS if module.parameters.get(k)]
    if len(set(found)) > 1:
        raise _FailedError(
            ErrorInfo(
                ErrorType.INVALID_CONFIGURATION.value,
                "parameters __IMTCONN__ and connection name different connections",
            )
        )
    rest = {k: v for k, v in module.parameters.items() if k not in CONNECTION_PARAMETERS}
    return (found[0] if found else ""), rest


def _request(module: Module, task: ModuleTask, org_id: str, inputs: Mapping[str, Any]) -> Any:
    app, _, name = module.module.partition(":")
    connection_id, _ = connection_of(module)
    return pb.ExecuteModuleRequest(
        app=app,
        module=name,
        inputs=orjson.dumps(inputs).decode(),
        connection_id=connection_id,
        run=pb.RunInfo(
            organization_id=org_id,
            scenario_id=task.execution.scenario_id,
            run_id=task.run_id,
            task_id=task.task_id,
            module_id=task.module_id,
            attempt=task.attempt,
            idempotency_key=task.idempotency_key,
        ),
    )


def _rpc_failure(error: grpc.aio.AioRpcError) -> ErrorInfo:
    code = error.code()
    # Anything but a configuration status is worth the engine's retry, like a ConnectionError.
    kind = ErrorType.INVALID_CONFIGURATION if code in CONFIGURATION_CODES else ErrorType.CONNECTION
    return ErrorInfo(kind.value, f"connector gateway: {code.name}: {error.details() or ''}")


def _outcome(response: pb.ExecuteModuleResponse) -> list[dict[str, Any]]:
    if response.WhichOneof("outcome") == "error":
        failure = response.error
        retry_after = (
            failure.retry_after.ToNanoseconds() / 1e9 if failure.HasField("retry_after") else None
        )
        raise _FailedError(ErrorInfo(failure.type or "RuntimeError", failure.message, retry_after))
    bundles = orjson.loads(response.bundles or "[]")
    if not isinstance(bundles, list) or not all(isinstance(b, dict) for b in bundles):
        malformed = "the gateway returned malformed bundles"
        raise _FailedError(ErrorInfo(ErrorType.RUNTIME.value, malformed))
    return bundles


class AppModuleRunner:
    def __init__(
        self,
        execute: Callable[[], Execute | None],
        *,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._execute = execute
        self._timeout = timeout
        self._clock = clock

    async def run(self, module: Module, task: ModuleTask, org_id: str) -> TaskResult:
        result = TaskResult(run_id=task.run_id, task_id=task.task_id, attempt=task.attempt)
        result.started_at = self._clock()
        try:
            inputs = self._inputs(module, task)
            result.inputs = inputs
            result.bundles = await self._call(_request(module, task, org_id, inputs))
        except _FailedError as failed:
            result.error = failed.error
        result.finished_at = self._clock()
        return result

    @staticmethod
    def _inputs(module: Module, task: ModuleTask) -> dict[str, Any]:
        _, parameters = connection_of(module)
        try:
            mapped = evaluate_mapping(module.mapper, eval_context(task), field="mapper")
        except ExpressionError as exc:
            raise _FailedError(ErrorInfo(ErrorType.DATA.value, str(exc))) from exc
        inputs: dict[str, Any] = to_json_compatible({**parameters, **mapped})
        return inputs

    async def _call(self, request: pb.ExecuteModuleRequest) -> list[dict[str, Any]]:
        execute = self._execute()
        if execute is None:
            raise _FailedError(ErrorInfo(ErrorType.CONNECTION.value, NO_GATEWAY))
        try:
            response = await execute(request, self._timeout)
        except grpc.aio.AioRpcError as error:
            raise _FailedError(_rpc_failure(error)) from error
        return _outcome(response)
