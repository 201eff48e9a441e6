"""`run_services` / `python -m scenarist_orchestrator`: start, drain on SIGTERM, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest
from orchestrator_support import standalone_settings
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.main import host_services

pytestmark = pytest.mark.integration


async def test_host_services_drains_on_a_signal_and_exits_0(database_dsn: str) -> None:
    settings = standalone_settings(database_dsn)
    lifecycle = Lifecycle(settings)
    hosting = asyncio.create_task(host_services(["orchestrator", "executor"], settings, lifecycle))
    for _ in range(400):
        if lifecycle.health.started or hosting.done():
            break
        await asyncio.sleep(0.05)
    assert lifecycle.health.started
    lifecycle.on_signal("SIGTERM")
    assert await hosting == 0


async def test_a_failed_start_exits_1() -> None:
    settings = standalone_settings("postgresql://nobody@127.0.0.1:1/none")
    assert await host_services(["orchestrator"], settings) == 1


def _wait_for_start(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdout is not None
    for line in process.stdout:  # bounded by the test timeout and the process exiting
        if line.startswith("{") and json.loads(line).get("message") == "services started":
            return dict(json.loads(line))
    raise AssertionError(f"the process exited with {process.wait()} before starting")


def test_the_module_entry_point_runs_until_sigterm(database_dsn: str) -> None:
    env = {
        **os.environ,
        "SCENARIST_MODE": "standalone",
        "SCENARIST_POSTGRES_DSN": database_dsn,
        "SCENARIST_HTTP_PORT": "0",
        "SCENARIST_GRPC_PORT": "0",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "scenarist_orchestrator"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            started = _wait_for_start(process)
            assert started.get("services") == ["orchestrator"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
