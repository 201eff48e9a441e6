from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SERVICE = Path(__file__).with_name("drain_service.py")


class Service:
    """The drain_service.py subprocess and its parsed JSON log lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict] = []

    async def wait_for(self, predicate, timeout: float = 15.0) -> dict:
        async with asyncio.timeout(timeout):
            for line in self.lines:
                if predicate(line):
                    return line
            while True:
                assert self.proc.stdout is not None
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"service exited; log so far: {self.lines}")
                entry = json.loads(raw)  # every stdout line must be JSON
                self.lines.append(entry)
                if predicate(entry):
                    return entry

    async def finish(self, timeout: float) -> int:
        async with asyncio.timeout(timeout):
            assert self.proc.stdout is not None
            async for raw in self.proc.stdout:
                self.lines.append(json.loads(raw))
            return await self.proc.wait()

    def events(self) -> list[str]:
        return [line["event"] for line in self.lines if "event" in line]


async def start(drain_timeout: float, work_seconds: float, **extra: str) -> Service:
    env = {
        **extra,
        **os.environ,
        "SCENARIST_SERVICE_NAME": "drain-test",
        "SCENARIST_HTTP_PORT": "0",
        "SCENARIST_DRAIN_TIMEOUT_SECONDS": str(drain_timeout),
        "SCENARIST_LOG_LEVEL": "INFO",
        "DRAIN_TEST_WORK_SECONDS": str(work_seconds),
        "OTEL_TRACES_EXPORTER": "none",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SERVICE),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Service(proc)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.fixture
async def cleanup():
    services: list[Service] = []
    yield services
    for service in services:
        if service.proc.returncode is None:
            service.proc.kill()
            await service.proc.wait()


async def test_sigterm_drains_in_flight_work_then_commits_and_exits_0(cleanup) -> None:
    service = await start(drain_timeout=10, work_seconds=2.0)
    cleanup.append(service)
    listening = await service.wait_for(lambda e: e["message"] == "http server listening")
    await service.wait_for(lambda e: e["message"] == "service ready")
    url = listening["url"]
    assert await asyncio.to_thread(_status, f"{url}/readyz") == 200

    sent = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    await service.wait_for(lambda e: e.get("event") == "work_continues")
    # While the batch is still being processed the pod reports not-ready but alive.
    assert await asyncio.to_thread(_status, f"{url}/readyz") == 503
    assert await asyncio.to_thread(_status, f"{url}/livez") == 200

    assert await service.finish(timeout=10) == 0
    assert time.monotonic() - sent < 10
    assert service.events() == [
        "stop_fetching",
        "work_continues",
        "work_finished",
        "commit",
        "close_last_opened",
        "close_first_opened",
    ] or service.events() == [
        "work_continues",
        "stop_fetching",
        "work_finished",
        "commit",
        "close_last_opened",
        "close_first_opened",
    ]
    stopped = next(line for line in service.lines if line["message"] == "service stopped")
    assert stopped["drained"] is True
    assert stopped["reason"] == "SIGTERM"
    assert all(line["service"] == "drain-test" for line in service.lines)


async def test_work_outliving_the_drain_timeout_is_handed_back(cleanup) -> None:
    service = await start(drain_timeout=1, work_seconds=120)
    cleanup.append(service)
    await service.wait_for(lambda e: e["message"] == "service ready")
    service.proc.send_signal(signal.SIGTERM)
    # The bounded wait fails the test if the process waited for its 120 s of work.
    assert await service.finish(timeout=10) == 0
    events = service.events()
    assert "work_finished" not in events
    assert events.index("work_handed_back") < events.index("commit")
    assert events[-2:] == ["close_last_opened", "close_first_opened"]
    stopped = next(line for line in service.lines if line["message"] == "service stopped")
    assert stopped["drained"] is False


async def test_second_signal_skips_the_wait(cleanup) -> None:
    service = await start(drain_timeout=60, work_seconds=120)
    cleanup.append(service)
    await service.wait_for(lambda e: e["message"] == "service ready")
    service.proc.send_signal(signal.SIGTERM)
    await service.wait_for(lambda e: e.get("event") == "work_continues")
    service.proc.send_signal(signal.SIGINT)
    assert await service.finish(timeout=10) == 1
    assert "commit" in service.events()


async def test_main_failing_still_drains_and_exits_1(cleanup) -> None:
    service = await start(drain_timeout=10, work_seconds=0.1, DRAIN_TEST_FAIL="1")
    cleanup.append(service)
    assert await service.finish(timeout=10) == 1
    failure = next(line for line in service.lines if line["message"] == "in-flight task failed")
    assert failure["level"] == "ERROR" and "main crashed" in failure["exc"]
    assert service.events()[-3:] == ["commit", "close_last_opened", "close_first_opened"]
    assert "work_finished" in service.events()
