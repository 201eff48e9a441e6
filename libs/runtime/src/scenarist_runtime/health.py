"""Liveness, readiness and metrics endpoints as reusable Starlette routes.

- ``GET /livez``: the process and its event loop answer; never checks dependencies, so a
  Postgres outage does not make Kubernetes restart every pod at once.
- ``GET /readyz``: runs every registered readiness check concurrently, each with its own timeout;
  200 with each check's result, or 503 listing the failures. Also 503 while the service drains,
  so Kubernetes stops routing to a pod that has stopped taking work.
- ``GET /metrics``: the Prometheus registry.

The trigger service mounts its webhook routes next to these: ``Starlette(routes=[*health_routes
(checks), *webhook_routes])``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from scenarist_observability.metrics import CONTENT_TYPE_LATEST, render_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["CheckResult", "HealthChecks", "ReadinessCheck", "health_routes"]

log = logging.getLogger(__name__)

#: A readiness check: returns None/True (ready), False (not ready), or any other value (ready,
#: reported as its detail, e.g. a server version); raising means not ready.
ReadinessCheck = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    duration_seconds: float
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "ok" if self.ok else "failing",
            "duration_ms": round(self.duration_seconds * 1000, 1),
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out


class HealthChecks:
    """Named readiness checks plus the draining flag that the lifecycle sets on shutdown."""

    def __init__(self, *, default_timeout: float = 2.0, started: bool = True) -> None:
        self._checks: dict[str, tuple[ReadinessCheck, float]] = {}
        self._default_timeout = default_timeout
        # The lifecycle creates this with started=False so a pod is not routed to before its
        # consumers and servers are up, whatever the checks say.
        self._started = started
        self._draining = False

    def add(self, name: str, check: ReadinessCheck, *, timeout: float | None = None) -> None:
        """Register (or replace) the readiness check `name`."""
        self._checks[name] = (check, timeout if timeout is not None else self._default_timeout)

    def remove(self, name: str) -> None:
        self._checks.pop(name, None)

    @property
    def names(self) -> list[str]:
        return list(self._checks)

    @property
    def started(self) -> bool:
        return self._started

    def set_started(self) -> None:
        self._started = True

    @property
    def draining(self) -> bool:
        return self._draining

    def set_draining(self) -> None:
        """Make /readyz answer 503 from now on (the service is shutting down)."""
        self._draining = True

    async def _run_one(self, name: str, check: ReadinessCheck, timeout: float) -> CheckResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                outcome = await check()
        except TimeoutError:
            return CheckResult(name, False, time.perf_counter() - started, f"timeout {timeout}s")
        except Exception as exc:  # a failing dependency, reported rather than raised
            detail = f"{type(exc).__name__}: {exc}"[:300]
            return CheckResult(name, False, time.perf_counter() - started, detail)
        elapsed = time.perf_counter() - started
        if outcome is False:
            return CheckResult(name, False, elapsed, "not ready")
        shown = None if outcome is None or outcome is True else str(outcome)[:300]
        return CheckResult(name, True, elapsed, shown)

    async def run(self) -> list[CheckResult]:
        """Run every check concurrently; a slow one costs its own timeout, not the sum."""
        return list(
            await asyncio.gather(
                *(self._run_one(name, check, t) for name, (check, t) in self._checks.items())
            )
        )


def health_routes(
    checks: HealthChecks,
    *,
    registry: CollectorRegistry | None = None,
    metrics: bool = True,
) -> list[Route]:
    """The /livez, /readyz and (unless `metrics` is False) /metrics routes."""

    async def livez(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if checks.draining or not checks.started:
            state = "draining" if checks.draining else "starting"
            return JSONResponse({"status": state, "checks": {}}, status_code=503)
        results = await checks.run()
        failing = [r for r in results if not r.ok]
        if failing:
            # At most one line per probe failure; readiness probes run every few seconds.
            log.warning(
                "readiness check failed",
                extra={"failing": {r.name: r.detail for r in failing}},
            )
        body = {
            "status": "failing" if failing else "ok",
            "checks": {r.name: r.as_json() for r in results},
        }
        return JSONResponse(body, status_code=503 if failing else 200)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(render_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if metrics:
        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    return routes
