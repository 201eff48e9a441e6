"""Scenarist under test: started by the harness (standalone) or by `make up` (distributed),
loaded with the benchmark scenarios through the CLI, exposed as `Endpoint`s.

Standalone runs in a scratch directory (its `.scenarist/local.env` stays out of the repo's) on
free ports, against a database of its own on the project's Postgres, dropped afterwards.
Distributed runs `make up` with a database, a services directory and a local.env of its own
(deploy/services.sh's SCENARIST_SERVICES_* overrides), so neither mode's runs stay behind in the
history a developer's `make run` or `make up` shows.
Webhooks are created with `scenarist webhook create` when the CLI has it, else over gRPC with
the same request, with the rate limit and body limit raised for the benchmark.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.n8n import free_port
from bench.procs import Reaper, log, run_checked, spawn, stop_group, wait_for

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "bench" / "scenarios"
CLI = REPO / ".venv" / "bin" / "scenarist"
RUN_ROOT = REPO / ".scenarist" / "run"
MAX_BODY_BYTES = 16 * 1024 * 1024
RATE_PER_MINUTE = 2_000_000_000  # the benchmark measures throughput, not the limiter
# Workload 4's 50 ms server is on loopback, which app modules may not reach by default.
CONNECTOR_ALLOW = {"SCENARIST_CONNECTOR_ALLOW": "127.0.0.1/32"}


@dataclass
class Scenarist:
    mode: str  # "standalone" | "distributed"
    workdir: Path  # the CLI runs here and finds .scenarist/local.env in it or a parent
    http_url: str
    roots_fn: Any = None
    env: dict[str, str] = field(default_factory=dict)
    hooks: dict[str, str] = field(default_factory=dict)  # workload -> "/hooks/<token>"
    database: str | None = None

    def roots(self) -> list[int]:
        return list(self.roots_fn()) if self.roots_fn else []

    def cli(self, *args: str, timeout_s: float = 120.0) -> Any:
        out = run_checked(
            [str(CLI), *args], env=self.env or None, timeout_s=timeout_s, cwd=self.workdir
        )
        return json.loads(out) if out.strip() else {}

    def apply(self, workload: str, document: Path) -> str:
        applied = self.cli("scenario", "apply", str(document))
        scenario_id = str(applied["id"])
        self.cli("scenario", "activate", scenario_id)
        self.hooks[workload] = self.create_webhook(scenario_id, f"bench {workload}")
        log(f"scenarist {self.mode}: {workload} = scenario {scenario_id}, {self.hooks[workload]}")
        return scenario_id

    def create_webhook(self, scenario_id: str, name: str) -> str:
        if _cli_has_webhooks():
            created = self.cli(
                "webhook",
                "create",
                "--scenario",
                scenario_id,
                "--name",
                name,
                "--max-body-bytes",
                str(MAX_BODY_BYTES),
                "--rate-per-minute",
                str(RATE_PER_MINUTE),
            )
            return _url_path(created)
        return _create_webhook_grpc(self.workdir, scenario_id, name)


def _cli_has_webhooks() -> bool:
    """`scenarist webhook create` exists, but without the limit flags the benchmark needs
    (a 16 MiB body, no rate limit) it cannot be used yet: the gRPC request is sent instead."""
    probe = subprocess.run(  # noqa: S603 — fixed argv, no shell
        [str(CLI), "webhook", "create", "--help"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0 and "--max-body-bytes" in probe.stdout


def _url_path(document: Any) -> str:
    """`/hooks/<token>` from whatever shape the CLI prints (url_path, urlPath or url)."""
    if isinstance(document, dict):
        for key in ("url_path", "urlPath", "url"):
            value = document.get(key)
            if isinstance(value, str) and "/hooks/" in value:
                return value[value.index("/hooks/") :]
        for value in document.values():
            found = _url_path(value)
            if found:
                return found
    return ""


def _create_webhook_grpc(workdir: Path, scenario_id: str, name: str) -> str:
    import grpc  # noqa: PLC0415
    from scenarist.trigger.v1 import (  # noqa: PLC0415 — only for the gRPC fallback
        webhook_pb2,
        webhook_service_pb2,
        webhook_service_pb2_grpc,
    )
    from scenarist_cli.config import resolve  # noqa: PLC0415 — the CLI's own config lookup

    previous = Path.cwd()
    os.chdir(workdir)
    try:
        config = resolve(None, None)
    finally:
        os.chdir(previous)
    # Distributed mode serves webhooks from the trigger's own gRPC port; standalone from one.
    local = (
        (workdir / ".scenarist" / "local.env").read_text()
        if (workdir / ".scenarist" / "local.env").is_file()
        else ""
    )
    values = dict(line.split("=", 1) for line in local.splitlines() if "=" in line)
    server = values.get("SCENARIST_TRIGGER_SERVER", config.server).strip()
    with grpc.insecure_channel(server) as channel:
        stub = webhook_service_pb2_grpc.WebhookServiceStub(channel)
        response = stub.CreateWebhook(
            webhook_service_pb2.CreateWebhookRequest(
                scenario_id=scenario_id,
                name=name,
                auth=webhook_pb2.WEBHOOK_AUTH_NONE,
                options=webhook_pb2.WebhookOptions(
                    max_body_bytes=MAX_BODY_BYTES, rate_per_minute=RATE_PER_MINUTE
                ),
            ),
            metadata=(("authorization", f"Bearer {config.token}"),),
            timeout=30,
        )
    return str(response.webhook.url_path)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def _pidfile(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def infra_pids() -> list[int]:
    """Kafka, Postgres (the postmaster) and Redis of the project's run dir."""
    pids = [_pidfile(RUN_ROOT / "kafka" / "kafka.pid"), _pidfile(RUN_ROOT / "redis" / "redis.pid")]
    pids += [_pidfile(p) for p in (RUN_ROOT / "postgres").glob("data-*/postmaster.pid")]
    return [pid for pid in pids if pid]


def postgres_pids() -> list[int]:
    pids = [_pidfile(p) for p in (RUN_ROOT / "postgres").glob("data-*/postmaster.pid")]
    return [pid for pid in pids if pid]


def services_dir() -> Path:
    """Where deploy/services.sh keeps its pids: the benchmark's own directory once
    start_distributed has set it, else the developer's `make up`."""
    return Path(os.environ.get("SCENARIST_SERVICES_DIR") or RUN_ROOT / "services")


def service_pids() -> list[int]:
    pids = [_pidfile(p) for p in services_dir().glob("*.pid")]
    return [pid for pid in pids if pid]


def service_pids_by_name() -> dict[str, int]:
    """`orchestrator`, `connector_gateway`, `executor-1`, ... -> pid (distributed mode)."""
    found = {p.stem: _pidfile(p) for p in services_dir().glob("*.pid")}
    return {name: pid for name, pid in found.items() if pid}


def infra_running(component: str) -> bool:
    status = subprocess.run(  # noqa: S603 — fixed argv, no shell
        [str(REPO / "deploy" / "infra.sh"), "status"], capture_output=True, text=True, check=False
    )
    return any(
        line.startswith(f"[{component}] running")
        for line in (status.stdout + status.stderr).splitlines()
    )


def ensure_infra(component: str, reaper: Reaper) -> None:
    """Start an infrastructure component unless it runs already (then it is not ours to stop)."""
    if infra_running(component):
        log(f"{component}: already running, reused and left running")
        return
    run_checked([str(REPO / "deploy" / "infra.sh"), "up", component], timeout_s=300.0)
    reaper.defer(
        f"infra {component}",
        lambda: run_checked(
            [str(REPO / "deploy" / "infra.sh"), "down", component], timeout_s=120.0
        ),
    )


def infra_env() -> dict[str, str]:
    out = run_checked([str(REPO / "deploy" / "infra.sh"), "env"])
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = value.strip().strip("'\"")
    return env


def _database(admin_dsn: str, name: str, action: str) -> None:
    code = (
        "import asyncio, asyncpg, sys\n"
        "async def main():\n"
        "    c = await asyncpg.connect(sys.argv[1])\n"
        "    try:\n"
        f"        await c.execute('{action} DATABASE \"' + sys.argv[2] + '\"')\n"
        "    finally:\n"
        "        await c.close()\n"
        "asyncio.run(main())\n"
    )
    run_checked([sys.executable, "-c", code, admin_dsn, name], timeout_s=60.0)


def _scratch(reaper: Reaper, mode: str) -> tuple[str, Path]:
    """A database (its DSN) and a working directory of this benchmark's own for `mode`,
    dropped and removed when the reaper runs."""
    admin_dsn = infra_env()["SCENARIST_POSTGRES_DSN"]
    database = f"scenarist_bench_{mode}_{os.getpid()}"
    _database(admin_dsn, database, "CREATE")
    reaper.defer(f"{mode} database", lambda: _database(admin_dsn, database, "DROP"))
    workdir = Path(tempfile.mkdtemp(prefix=f"scenarist-bench-{mode}-"))
    reaper.defer(f"{mode} workdir", lambda: shutil.rmtree(workdir, ignore_errors=True))
    return admin_dsn.rsplit("/", 1)[0] + "/" + database, workdir


def start_standalone(reaper: Reaper) -> Scenarist:
    ensure_infra("postgres", reaper)
    dsn, workdir = _scratch(reaper, "standalone")
    (workdir / "examples").symlink_to(REPO / "examples")  # the demo it loads at start
    http_port, grpc_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCENARIST_")}
    env.update(
        SCENARIST_POSTGRES_DSN=dsn,
        SCENARIST_HTTP_PORT=str(http_port),
        SCENARIST_GRPC_PORT=str(grpc_port),
        SCENARIST_LOG_LEVEL="WARNING",
        **CONNECTOR_ALLOW,
    )
    process = spawn(
        [str(CLI), "standalone", "--http-port", str(http_port), "--grpc-port", str(grpc_port)],
        env=env,
        cwd=workdir,
        log_path=REPO / ".bench" / "standalone.log",
    )
    reaper.defer("standalone", lambda: stop_group(process, "scenarist standalone", 40.0))
    local_env = workdir / ".scenarist" / "local.env"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"scenarist standalone exited {process.returncode}; see .bench/standalone.log"
            )
        return local_env.is_file() and _http_ok(f"http://127.0.0.1:{http_port}/readyz")

    wait_for(ready, "scenarist standalone readiness", timeout_s=180.0)
    log(f"scenarist standalone ready on 127.0.0.1:{http_port} (pid {process.pid})")
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("SCENARIST_")}
    return Scenarist(
        "standalone",
        workdir,
        f"http://127.0.0.1:{http_port}",
        # Postgres is part of the system under test (n8n's SQLite is inside its process); on a
        # shared server its CPU includes other users' queries, which the report says.
        roots_fn=lambda: [process.pid, *postgres_pids()],
        env=cli_env,
        database=dsn.rsplit("/", 1)[-1],
    )


# The services' default gRPC ports (50051-50055) lie in Linux's ephemeral range (32768-60999):
# workload 4 restarts every service per point, and a restart found 50054 held by one of the
# box's own outgoing connections. Below the range, nothing but a listener takes them.
BENCH_GRPC_PORTS = {
    "SCENARIST_ORCHESTRATOR_GRPC_PORT": "28051",
    "SCENARIST_TRIGGER_GRPC_PORT": "28052",
    "SCENARIST_LOG_GRPC_PORT": "28053",
    "SCENARIST_GATEWAY_GRPC_PORT": "28054",
    "SCENARIST_GATEWAY_INTERNAL_PORT": "28055",
}


def start_distributed(reaper: Reaper, executors: int = 2) -> Scenarist:
    """`make up` (infrastructure plus every service, `executors` executors). Services someone
    else started are refused rather than reused: the benchmark stops the services at the end."""
    if service_pids():
        raise RuntimeError("distributed services are already running (make down first)")
    for component in ("postgres", "kafka", "redis"):
        ensure_infra(component, reaper)  # what was up before stays up afterwards
    for name, port in BENCH_GRPC_PORTS.items():
        os.environ.setdefault(name, port)  # restart_executors reads them from here too
    workdir = _own_system(reaper)
    env = dict(os.environ, SCENARIST_EXECUTORS=str(executors), **CONNECTOR_ALLOW)
    # Deferred first: a `make up` that fails half-way must not leave services behind.
    reaper.defer(
        "services",
        lambda: run_checked([str(REPO / "deploy" / "services.sh"), "down"], timeout_s=180.0),
    )
    run_checked(["make", "-C", str(REPO), "up"], env=env, timeout_s=400.0)
    # services.sh listens where SCENARIST_TRIGGER_HTTP_PORT says (sessions sharing a machine).
    trigger_url = f"http://127.0.0.1:{os.environ.get('SCENARIST_TRIGGER_HTTP_PORT', '8080')}"
    wait_for(lambda: _http_ok(f"{trigger_url}/readyz"), "trigger readiness", 120.0)
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("SCENARIST_")}
    return Scenarist(
        "distributed",
        workdir,
        trigger_url,
        roots_fn=lambda: service_pids() + infra_pids(),
        env=cli_env,
        database=os.environ["SCENARIST_SERVICES_POSTGRES_DSN"].rsplit("/", 1)[-1],
    )


def _own_system(reaper: Reaper) -> Path:
    """A database, a services directory and a CLI local.env of the benchmark's own (dropped
    and removed at the end), so its runs never land in the history `make up` shows. Set in
    this process's environment: every later services.sh call (restarts, down) inherits it."""
    dsn, workdir = _scratch(reaper, "distributed")
    os.environ.update(
        SCENARIST_SERVICES_POSTGRES_DSN=dsn,
        SCENARIST_SERVICES_DIR=str(workdir / "services"),
        SCENARIST_LOCAL_ENV=str(workdir / ".scenarist" / "local.env"),
    )
    return workdir


def restart_executors(count: int, concurrency: int | None = None) -> None:
    """Workload 4: the same system with `count` executors (services down, then up), each
    running up to `concurrency` tasks at once (None: the default)."""
    run_checked([str(REPO / "deploy" / "services.sh"), "down"], timeout_s=180.0)
    env = dict(os.environ, SCENARIST_EXECUTORS=str(count), **CONNECTOR_ALLOW)
    if concurrency is not None:
        env["SCENARIST_EXECUTOR_CONCURRENCY"] = str(concurrency)
    run_checked([str(REPO / "deploy" / "services.sh"), "up"], env=env, timeout_s=300.0)
