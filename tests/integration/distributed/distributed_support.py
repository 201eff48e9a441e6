"""The distributed cluster the tests drive: Kafka + Postgres from deploy/infra.sh and the five
services started by deploy/services.sh as separate processes, on free ports and a run dir of this
session only (a developer's `make up` and other test sessions are never touched).

A plain module with a unique name, so it imports cleanly next to other test directories' helpers.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import grpc
import httpx
from prometheus_client.parser import text_string_to_metric_families
from scenarist.connector.v1 import (
    connection_service_pb2_grpc,
    connector_service_pb2_grpc,
    data_store_service_pb2_grpc,
)
from scenarist.identity.v1 import organization_service_pb2_grpc, token_service_pb2_grpc
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import webhook_service_pb2_grpc
from scenarist_storage.models import Role

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "deploy" / "infra.sh"
SERVICES = REPO / "deploy" / "services.sh"

FINAL = frozenset(
    {
        run_pb2.RunStatus.RUN_STATUS_SUCCESS,
        run_pb2.RunStatus.RUN_STATUS_WARNING,
        run_pb2.RunStatus.RUN_STATUS_ERROR,
        run_pb2.RunStatus.RUN_STATUS_CANCELLED,
    }
)
SUCCESS = run_pb2.RunStatus.RUN_STATUS_SUCCESS
# Inherited settings that only say where caches live; every other SCENARIST_* of the caller's
# shell (a DSN, a port) could point the cluster at someone else's servers.
_KEPT_VARIABLES = ("CACHE", "MAVEN", "PG_MODE", "PG_BIN_DIR", "PG_OS_USER", "JAVA")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def cluster_environment(run_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SCENARIST_") or any(k in key for k in _KEPT_VARIABLES)
    }
    names = [
        "SCENARIST_KAFKA_PORT",
        "SCENARIST_KAFKA_CONTROLLER_PORT",
        "SCENARIST_PG_PORT",
        "SCENARIST_REDIS_PORT",
        "SCENARIST_ORCHESTRATOR_HTTP_PORT",
        "SCENARIST_ORCHESTRATOR_GRPC_PORT",
        "SCENARIST_TRIGGER_HTTP_PORT",
        "SCENARIST_TRIGGER_GRPC_PORT",
        "SCENARIST_LOG_HTTP_PORT",
        "SCENARIST_LOG_GRPC_PORT",
        "SCENARIST_GATEWAY_GRPC_PORT",
    ]
    env.update({name: str(port) for name, port in zip(names, free_ports(len(names)), strict=True)})
    # Executor i listens on base + i, gateway i on the first gateway's HTTP and internal
    # ports + i - 1: runs of adjacent free ports.
    taken = {int(port) for name, port in env.items() if name in names}
    executor_base = _free_run(range(1, 3), taken)
    gateway_http = _free_run(range(2), taken)
    gateway_internal = _free_run(range(2), taken)
    env.update(
        SCENARIST_RUN_DIR=str(run_dir),
        SCENARIST_LOCAL_ENV=str(run_dir / "local.env"),
        SCENARIST_EXECUTOR_HTTP_PORT_BASE=str(executor_base),
        SCENARIST_EXECUTORS="2",
        SCENARIST_GATEWAY_HTTP_PORT=str(gateway_http),
        SCENARIST_GATEWAY_INTERNAL_PORT=str(gateway_internal),
        SCENARIST_GATEWAYS="2",
        SCENARIST_LOG_LEVEL="INFO",
    )
    return env


def _free_run(offsets: range, taken: set[int]) -> int:
    """A base port whose base + offset are free for every offset (and not `taken`); the ports
    are added to `taken`."""
    for base in free_ports(20):
        ports = {base + offset for offset in offsets}
        if not ports & taken and all(_port_free(port) for port in ports):
            taken |= ports
            return base
    raise AssertionError(f"no free run of ports for offsets {list(offsets)}")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class Tenant:
    org_id: uuid.UUID
    tokens: dict[Role, str]

    def auth(self, role: Role = Role.OWNER) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[role]}"),)


@dataclass
class Cluster:
    run_dir: Path
    env: dict[str, str]
    processes: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (http, grpc)
    postgres_dsn: str = ""
    kafka_bootstrap: str = ""

    # ----- processes --------------------------------------------------------------------------

    def script(self, script: Path, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [str(script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{script.name} {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}"
            )
        return done.stdout

    def scripts_in_parallel(self, script: Path, *calls: tuple[str, ...], timeout: float) -> None:
        """`script` once per argument tuple, concurrently (Postgres starts while Kafka does)."""
        running = [
            subprocess.Popen(
                [str(script), *args],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in calls
        ]
        failures = []
        for args, process in zip(calls, running, strict=True):
            _, stderr = process.communicate(timeout=timeout)
            if process.returncode != 0:
                failures.append(f"{script.name} {' '.join(args)}: {stderr[-3000:]}")
        if failures:
            raise RuntimeError("\n".join(failures))

    def infra_env(self) -> dict[str, str]:
        found = {}
        for line in self.script(INFRA, "env", timeout=60).splitlines():
            key, _, value = shlex.split(line)[1].partition("=")
            found[key] = value
        return found

    def use_database(self, name: str) -> None:
        """Run the services on a database of their own on the infrastructure's Postgres (as the
        distributed benchmark does: services.sh's SCENARIST_SERVICES_* overrides)."""
        admin = self.infra_env()["SCENARIST_POSTGRES_DSN"]
        asyncio.run(_create_database(admin, name))
        self.env.update(
            SCENARIST_SERVICES_POSTGRES_DSN=admin.rsplit("/", 1)[0] + "/" + name,
            SCENARIST_SERVICES_DIR=str(self.services_dir),
        )

    @property
    def services_dir(self) -> Path:
        return self.run_dir / "cluster"

    def load_addresses(self) -> None:
        for line in self.script(SERVICES, "list", timeout=30).splitlines():
            name, _, http, grpc_port = line.split()
            self.processes[name] = (int(http), int(grpc_port))
        infra = self.infra_env()
        self.postgres_dsn = self.env.get(
            "SCENARIST_SERVICES_POSTGRES_DSN", infra["SCENARIST_POSTGRES_DSN"]
        )
        self.kafka_bootstrap = infra["SCENARIST_KAFKA_BOOTSTRAP"]

    def bootstrap_token(self) -> str:
        for line in (self.run_dir / "local.env").read_text(encoding="utf-8").splitlines():
            if line.startswith("SCENARIST_TOKEN="):
                return line.split("=", 1)[1]
        raise AssertionError("services.sh wrote no SCENARIST_TOKEN")

    def pid(self, name: str) -> int:
        return int((self.services_dir / f"{name}.pid").read_text().strip())

    def kill(self, name: str) -> None:
        """SIGKILL one process (no drain, no goodbye to the consumer group) and reap it."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        assert not _alive(pid), f"{name} (pid {pid}) survived SIGKILL"

    def start(self, *names: str) -> None:
        self.script(SERVICES, "start", *names, timeout=120)

    def target(self, name: str) -> str:
        return f"127.0.0.1:{self.processes[name][1]}"

    def http(self, name: str) -> str:
        return f"http://127.0.0.1:{self.processes[name][0]}"

    async def counter(self, process: str, sample: str, **labels: str) -> float:
        """Sum of `sample` series on `process`'s /metrics whose labels include `labels`."""
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"{self.http(process)}/metrics")).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for found in family.samples:
                if found.name == sample and labels.items() <= found.labels.items():
                    total += found.value
        return total


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@dataclass
class Api:
    """gRPC stubs of every service of the cluster, each on its own process's port."""

    channels: dict[str, grpc.aio.Channel]

    @classmethod
    @asynccontextmanager
    async def connect(cls, cluster: Cluster) -> AsyncIterator[Api]:
        names = ("orchestrator", "trigger", "log", "connector_gateway")
        channels = {name: grpc.aio.insecure_channel(cluster.target(name)) for name in names}
        try:
            yield cls(channels)
        finally:
            for channel in channels.values():
                await channel.close(None)

    @property
    def scenarios(self) -> Any:
        return scenario_service_pb2_grpc.ScenarioServiceStub(self.channels["orchestrator"])

    @property
    def runs(self) -> Any:
        return run_service_pb2_grpc.RunServiceStub(self.channels["orchestrator"])

    @property
    def organizations(self) -> Any:
        return organization_service_pb2_grpc.OrganizationServiceStub(self.channels["orchestrator"])

    @property
    def tokens(self) -> Any:
        return token_service_pb2_grpc.TokenServiceStub(self.channels["orchestrator"])

    @property
    def webhooks(self) -> Any:
        return webhook_service_pb2_grpc.WebhookServiceStub(self.channels["trigger"])

    @property
    def logs(self) -> Any:
        return log_service_pb2_grpc.LogServiceStub(self.channels["log"])

    @property
    def connectors(self) -> Any:
        return connector_service_pb2_grpc.ConnectorServiceStub(self.channels["connector_gateway"])

    @property
    def connections(self) -> Any:
        channel = self.channels["connector_gateway"]
        return connection_service_pb2_grpc.ConnectionServiceStub(channel)

    @property
    def data_stores(self) -> Any:
        return data_store_service_pb2_grpc.DataStoreServiceStub(self.channels["connector_gateway"])

    async def create_scenario(self, tenant: Tenant, document: str, *, activate: bool) -> str:
        created = await self.scenarios.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=document),
            metadata=tenant.auth(Role.EDITOR),
        )
        scenario_id = str(created.scenario.id)
        if activate:
            await self.scenarios.ActivateScenario(
                scenario_service_pb2.ActivateScenarioRequest(scenario_id=scenario_id),
                metadata=tenant.auth(Role.EDITOR),
            )
        return scenario_id

    async def start_run(self, tenant: Tenant, scenario_id: str, data: str = "{}") -> str:
        response = await self.runs.StartRun(
            run_service_pb2.StartRunRequest(scenario_id=scenario_id, input=data),
            metadata=tenant.auth(Role.EDITOR),
        )
        return str(response.run.id)

    async def get_run(self, tenant: Tenant, run_id: str) -> Any:
        request = run_service_pb2.GetRunRequest(run_id=run_id)
        return (await self.runs.GetRun(request, metadata=tenant.auth())).run

    async def finished_runs(
        self, tenant: Tenant, run_ids: list[str], timeout: float = 90.0
    ) -> list[Any]:
        """Every run in a final status (bounded poll); unreachable servers are retried."""

        async def statuses() -> list[Any]:
            return [await self.get_run(tenant, run_id) for run_id in run_ids]

        return await until(
            statuses,
            lambda runs: all(run.status in FINAL for run in runs),
            timeout=timeout,
            what=f"{len(run_ids)} runs to finish",
            retry=(grpc.aio.AioRpcError,),
        )

    async def run_log(self, tenant: Tenant, run_id: str) -> list[Any]:
        """Every step of the run, page after page."""
        steps: list[Any] = []
        token = ""
        while True:
            request = log_service_pb2.GetRunLogRequest(run_id=run_id, page_token=token)
            page = await self.logs.GetRunLog(request, metadata=tenant.auth())
            steps.extend(page.steps)
            token = page.next_page_token
            if not token:
                return steps


async def until(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    retry: tuple[type[Exception], ...] = (),
    interval: float = 0.2,
) -> T:
    """Call `probe` until `done(result)`, at most `timeout` seconds; fail saying what it waited
    for and the last thing it saw."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = await probe()
        except retry as exc:
            last = exc
        else:
            if done(value):
                return value
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(interval)


def fan_out(items: int, sleep: float, parallel: int) -> str:
    """Webhook → iterator → sleep (a task for the executors) → compose → aggregate; see
    `fan_out_operations` for what one run costs."""
    return f"""\
name: Fan-out {items}x{sleep}s
settings: {{parallel_bundles: {parallel}}}
flow:
  - {{id: 1, module: gateway:CustomWebHook}}
  - {{id: 2, module: builtin:BasicFeeder, mapper: {{array: "{{{{1.items}}}}"}}}}
  - {{id: 3, module: util:FunctionSleep, mapper: {{duration: {sleep}}}}}
  - {{id: 4, module: util:ComposeTransformer, mapper: {{value: "item {{{{2.value}}}}"}}}}
  - id: 5
    module: builtin:BasicAggregator
    parameters: {{feeder: 2}}
    mapper: {{v: "{{{{4.value}}}}"}}
"""


def fan_out_operations(items: int) -> int:
    """Trigger, iterator and aggregator once; sleep and compose once per item."""
    return 3 + 2 * items


def items_input(count: int) -> str:
    return '{"items": [' + ",".join(str(i) for i in range(count)) + "]}"


async def _create_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')  # a fixed name, not input
    finally:
        await conn.close()
