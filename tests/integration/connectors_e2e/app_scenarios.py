"""One hosted stack per test module for app modules in scenarios, and what proves no secret
leaked: every log record from before the stack starts until the module ends (DEBUG, every
logger), every gRPC response the tests received and every run log they read.

The stack is the same as the one of conftest.py (all five services in one process, standalone:
real Postgres and Redis, the in-process bus), reached over a real gRPC channel whose client
interceptor keeps each response (and each error's details) for the final grep.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from pydantic import SecretStr
from scenarist.connector.v1 import connection_service_pb2, connection_service_pb2_grpc
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_observability.logging import JsonFormatter
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))  # the fakes package

SERVICES = ["orchestrator", "executor", "trigger", "log", "connector_gateway"]
FINAL = {
    run_pb2.RunStatus.RUN_STATUS_SUCCESS,
    run_pb2.RunStatus.RUN_STATUS_WARNING,
    run_pb2.RunStatus.RUN_STATUS_ERROR,
    run_pb2.RunStatus.RUN_STATUS_CANCELLED,
}
TYPES = {
    "api_key": ConnectionType.CONNECTION_TYPE_API_KEY,
    "basic": ConnectionType.CONNECTION_TYPE_BASIC,
    "bearer": ConnectionType.CONNECTION_TYPE_BEARER,
    "oauth2": ConnectionType.CONNECTION_TYPE_OAUTH2,
}
Bundle = dict[str, Any]


class LogCapture(logging.Handler):
    """Every record rendered twice: raw (message, args, extras, traceback) and as the JSON line
    the services would print, so a secret is found whichever way it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.attached: list[logging.Logger] = []  # non-propagating loggers it also listens to
        self._json = JsonFormatter("apps-in-scenarios")
        self._plain = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            raw = f"{record.getMessage()} {record.__dict__!r}"
            trace = self._plain.formatException(record.exc_info) if record.exc_info else ""
            self.lines.append(f"{raw}\n{trace}\n{self._json.format(record)}")
        except Exception as exc:  # a record that cannot be rendered is itself worth a look
            self.lines.append(f"unrenderable record {record.name}: {exc!r}")


@asynccontextmanager
async def capturing_logs() -> AsyncIterator[LogCapture]:
    """DEBUG on the root logger and on every logger that does not propagate, restored after."""
    capture = LogCapture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        for logger in capture.attached:
            logger.removeHandler(capture)
        root.removeHandler(capture)
        root.setLevel(level)


def attach_to_isolated_loggers(capture: LogCapture) -> None:
    """Loggers created with propagate=False (after the services started) never reach root."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger) or logger.propagate:
            continue
        if capture not in logger.handlers:
            logger.addHandler(capture)
            capture.attached.append(logger)


@dataclass
class Recorder(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Keeps every response (and every error's details) this test process received."""

    seen: list[str] = field(default_factory=list)

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        call = await continuation(client_call_details, request)
        try:
            response = await call
        except grpc.aio.AioRpcError as error:
            self.seen.append(f"{error.code()} {error.details()} {error.trailing_metadata()}")
            raise
        self.seen.append(str(response))
        self.seen.append(response.SerializeToString().decode("utf-8", "replace"))
        return response


@dataclass
class AppStack:
    channel: grpc.aio.Channel
    token: str
    logs: LogCapture
    responses: Recorder
    run_logs: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)

    async def connection(
        self,
        app: str,
        kind: str,
        secrets: Mapping[str, str],
        **parameters: str,
    ) -> str:
        """A connection created through ConnectionService; read back so that answer is checked
        too."""
        stub = connection_service_pb2_grpc.ConnectionServiceStub(self.channel)
        created = await stub.CreateConnection(
            connection_service_pb2.CreateConnectionRequest(
                app=app,
                type=TYPES[kind],
                name=f"{app} fake",
                parameters=dict(parameters),
                secrets=dict(secrets),
            ),
            metadata=self.auth,
        )
        connection_id = str(created.connection.id)
        await stub.GetConnection(
            connection_service_pb2.GetConnectionRequest(connection_id=connection_id),
            metadata=self.auth,
        )
        return connection_id

    async def run(self, document: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
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
        run_id = started.run.id

        async def final() -> Any:
            got = await runs.GetRun(
                run_service_pb2.GetRunRequest(run_id=run_id), metadata=self.auth
            )
            return got.run if got.run.status in FINAL else None

        return await poll(final, 600, f"run {run_id} did not finish")

    async def steps(self, run_id: str, module_id: int, count: int = 1) -> list[Any]:
        """The run log's steps of `module_id` (GetRunLog), once `count` of them arrived."""
        logs = log_service_pb2_grpc.LogServiceStub(self.channel)

        async def found() -> list[Any] | None:
            page = await logs.GetRunLog(
                log_service_pb2.GetRunLogRequest(run_id=run_id, page_size=1000),
                metadata=self.auth,
            )
            self.run_logs[run_id] = str(page)
            mine = [s for s in page.steps if s.module_id == module_id]
            return mine if len(mine) >= count else None

        steps: list[Any] = await poll(found, 300, f"no {count} steps of module {module_id}")
        return steps

    async def bundles(self, run_id: str, module_id: int, count: int = 1) -> list[Bundle]:
        """Every output bundle of the module's successful steps, in run-log order."""
        steps = await self.steps(run_id, module_id, count)
        out: list[Bundle] = []
        for step in steps:
            if step.output and not step.error.type:
                out.extend(json.loads(step.output))
        return out

    def leaks(self, secrets: Iterable[str]) -> list[str]:
        """Where any secret shows: log lines, gRPC responses, run logs (empty when none)."""
        places = {
            "log line": self.logs.lines,
            "gRPC response": self.responses.seen,
            "run log": list(self.run_logs.values()),
        }
        return [
            f"{where}: ...{text[max(0, text.find(secret) - 200) : text.find(secret) + 100]}..."
            for secret in secrets
            for where, texts in places.items()
            for text in texts
            if secret in text
        ]


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def stack_environment(**extra: str) -> dict[str, str]:
    return {
        "SCENARIST_SECRETS_KEY": _key(),
        "SCENARIST_WEBHOOK_SECRET_KEY": _key(),
        "SCENARIST_CONNECTOR_ALLOW": "127.0.0.1/32",
        "SCENARIST_RATE_LIMIT_BACKEND": "redis",
        "SCENARIST_CONNECTOR_TIMEOUT_SECONDS": "10",
        "SCENARIST_CONNECTION_RATE_LIMIT": json.dumps({"rate": 100, "burst": 100}),
        "SCENARIST_RATE_LIMIT_MAX_WAIT_SECONDS": "5",
        **extra,
    }


@asynccontextmanager
async def hosted_stack(
    database_dsn: str, redis_url: str, logs: LogCapture
) -> AsyncIterator[AppStack]:
    """All five services in this process (the environment is already set), an organization
    with an editor token, and a recording channel."""
    settings = ServiceSettings(
        service_name="apps-in-scenarios",
        mode="standalone",
        http_port=0,
        grpc_port=0,
        postgres_dsn=SecretStr(database_dsn),
        redis_url=SecretStr(redis_url),
        drain_timeout_seconds=5.0,
    )
    lifecycle = Lifecycle(settings)
    try:
        hosted = await start_host(SERVICES, settings, lifecycle)
        attach_to_isolated_loggers(logs)
        identity = PgIdentityStore(hosted.host.pool)
        org = await identity.create_organization(f"apps-{uuid.uuid4().hex[:6]}")
        _, token = await identity.create_token(org.id, Role.EDITOR, "apps-e2e")
        recorder = Recorder()
        # A list of Any: grpc-stubs declares aio.ClientInterceptor as a partial stub.
        interceptors: list[Any] = [recorder]
        target = f"127.0.0.1:{hosted.grpc_port}"
        async with grpc.aio.insecure_channel(target, interceptors=interceptors) as channel:
            yield AppStack(channel, token, logs, recorder)
    finally:
        await lifecycle.shutdown()


@asynccontextmanager
async def module_stack(database_dsn: str, redis_url: str, **env: str) -> AsyncIterator[AppStack]:
    """The environment set for the stack's whole life, logs captured from before it starts."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack_environment(**env).items():
            patch.setenv(name, value)
        async with capturing_logs() as logs, hosted_stack(database_dsn, redis_url, logs) as stack:
            yield stack


def scenario(name: str, *modules: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario started by a webhook (module 1) whose bundle is the run's input."""
    trigger = {"id": 1, "module": "gateway:CustomWebHook"}
    return {"name": name, "flow": [trigger, *modules]}


def app_module(module_id: int, module: str, connection: str = "", **mapper: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"id": module_id, "module": module, "mapper": mapper}
    if connection:
        step["parameters"] = {"connection": connection}
    return step


def aggregator(module_id: int, feeder: int, **mapper: Any) -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "builtin:BasicAggregator",
        "parameters": {"feeder": feeder},
        "mapper": mapper,
    }


def aggregated(bundles: list[Bundle]) -> list[Any]:
    [only] = bundles
    items: list[Any] = only["array"]
    return items


async def poll(check: Callable[[], Any], attempts: int, failure: str) -> Any:
    for _ in range(attempts):
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(failure)
