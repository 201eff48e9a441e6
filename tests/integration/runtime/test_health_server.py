from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from scenarist_observability.metrics import set_build_info
from scenarist_runtime.health import HealthChecks
from scenarist_runtime.http import HttpServer, build_app
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("content-type", "")


async def get(url: str) -> tuple[int, bytes, str]:
    # The server runs on this loop, so the blocking client must run in a thread.
    return await asyncio.to_thread(_get, url)


class Flag:
    def __init__(self) -> None:
        self.ok = False

    async def check(self) -> bool:
        return self.ok


async def test_livez_readyz_metrics_and_extra_routes() -> None:
    checks = HealthChecks(default_timeout=0.5)
    postgres = Flag()
    checks.add("postgres", postgres.check)
    checks.add("kafka", lambda: asyncio.sleep(0, result="3 brokers"))

    async def hook(_: Request) -> PlainTextResponse:
        return PlainTextResponse("accepted", status_code=202)

    set_build_info("trigger", "9.9.9")
    server = HttpServer(build_app(checks, [Route("/hooks/x", hook, methods=["POST", "GET"])]))
    await server.start()
    try:
        assert server.port > 0
        status, body, _ = await get(f"{server.url}/livez")
        assert (status, json.loads(body)) == (200, {"status": "ok"})

        status, body, _ = await get(f"{server.url}/readyz")
        report = json.loads(body)
        assert status == 503
        assert report["status"] == "failing"
        assert report["checks"]["postgres"]["status"] == "failing"
        assert report["checks"]["kafka"] == {
            "status": "ok",
            "duration_ms": report["checks"]["kafka"]["duration_ms"],
            "detail": "3 brokers",
        }

        postgres.ok = True
        status, body, _ = await get(f"{server.url}/readyz")
        assert status == 200
        assert json.loads(body)["status"] == "ok"

        status, body, content_type = await get(f"{server.url}/metrics")
        assert status == 200
        assert content_type.startswith("text/plain")
        assert b'scenarist_build_info{service="trigger",version="9.9.9"} 1.0' in body

        status, body, _ = await get(f"{server.url}/hooks/x")
        assert (status, body) == (202, b"accepted")
    finally:
        await server.shutdown()
    with pytest.raises(OSError):
        await asyncio.to_thread(urllib.request.urlopen, f"{server.url}/livez", None, 1)


async def test_readiness_timeouts_and_errors_are_reported() -> None:
    checks = HealthChecks()

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def raises() -> None:
        raise ConnectionRefusedError("redis down")

    checks.add("slow", hangs, timeout=0.2)
    checks.add("redis", raises)
    server = HttpServer(build_app(checks))
    await server.start()
    try:
        async with asyncio.timeout(5):
            status, body, _ = await get(f"{server.url}/readyz")
        report = json.loads(body)["checks"]
        assert status == 503
        assert report["slow"]["detail"] == "timeout 0.2s"
        assert report["redis"]["detail"] == "ConnectionRefusedError: redis down"
    finally:
        await server.shutdown()


async def test_readyz_is_503_while_starting_and_draining() -> None:
    checks = HealthChecks(started=False)
    server = HttpServer(build_app(checks))
    await server.start()
    try:
        status, body, _ = await get(f"{server.url}/readyz")
        assert (status, json.loads(body)["status"]) == (503, "starting")
        checks.set_started()
        assert (await get(f"{server.url}/readyz"))[0] == 200
        checks.set_draining()
        status, body, _ = await get(f"{server.url}/readyz")
        assert (status, json.loads(body)["status"]) == (503, "draining")
        assert (await get(f"{server.url}/livez"))[0] == 200
    finally:
        await server.shutdown()


async def test_port_in_use_fails_fast() -> None:
    first = HttpServer(build_app(HealthChecks()))
    await first.start()
    try:
        second = HttpServer(build_app(HealthChecks()), port=first.port)
        with pytest.raises(OSError):
            await second.start()
    finally:
        await first.shutdown()
