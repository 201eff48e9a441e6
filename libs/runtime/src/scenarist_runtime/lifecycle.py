"""Run a service until SIGTERM, then drain: stop fetching → finish in-flight → commit → close.

A service is one async function::

    async def main(lc: Lifecycle) -> None:
        consumer = await start_consumer(...)
        lc.health.add("kafka", consumer.ping)
        lc.add_shutdown_hook(consumer.pause, phase=Phase.STOP_FETCHING)
        lc.add_shutdown_hook(consumer.commit, phase=Phase.COMMIT)
        lc.add_shutdown_hook(consumer.close)               # Phase.CLOSE, runs LIFO
        lc.set_ready()
        while not lc.stopping.is_set():
            batch = await consumer.poll(timeout=0.5)
            lc.spawn(process(batch))                      # tracked as in-flight

    raise SystemExit(run_service(main, settings=load_settings(MySettings)))

On SIGTERM/SIGINT the ``stopping`` event is set and /readyz turns 503. Then STOP_FETCHING hooks
run, in-flight tasks (and ``main`` itself) get until ``drain_timeout_seconds`` to finish; what is
still running then is cancelled, i.e. handed back: its offsets are not committed, so another
instance re-reads it. COMMIT hooks run, then CLOSE hooks (last registered first). A second signal
during the drain skips the wait. Kubernetes' terminationGracePeriodSeconds must therefore exceed
drain_timeout_seconds plus the hook budgets (``hook_timeout_seconds`` per hook).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from scenarist_observability.logging import configure_logging
from scenarist_observability.metrics import set_build_info
from scenarist_observability.tracing import configure_tracing, shutdown_tracing
from starlette.routing import BaseRoute

from scenarist_runtime.health import HealthChecks
from scenarist_runtime.http import HttpServer, build_app
from scenarist_runtime.malloc import pin_mmap_threshold
from scenarist_runtime.settings import ServiceSettings

__all__ = ["Lifecycle", "Phase", "ShutdownHook", "run_service", "serve"]

log = logging.getLogger("scenarist.lifecycle")

ShutdownHook = Callable[[], Awaitable[object]]
MainFactory = Callable[["Lifecycle"], Coroutine[Any, Any, None]]


class Phase(enum.IntEnum):
    """Shutdown phases, in execution order."""

    STOP_FETCHING = 1  # pause consumers, stop accepting new work
    COMMIT = 2  # commit offsets / flush producers for the work that finished
    CLOSE = 3  # close clients, pools, servers (last registered, first closed)


class Lifecycle:
    """Shutdown signalling, in-flight tracking and ordered shutdown hooks for one service."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        health: HealthChecks | None = None,
        hook_timeout_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self.health = health or HealthChecks(
            default_timeout=settings.readiness_timeout_seconds, started=False
        )
        self.stopping = asyncio.Event()
        self.stop_reason: str | None = None
        self.drained_cleanly: bool | None = None
        self._forced = asyncio.Event()
        self._hooks: dict[Phase, list[tuple[str, ShutdownHook, float]]] = {p: [] for p in Phase}
        self._hook_timeout = hook_timeout_seconds
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shutdown_started = False

    # --- signalling -----------------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        """Begin shutdown (idempotent: later requests keep the first reason)."""
        if self.stopping.is_set():
            return
        self.stop_reason = reason
        log.info("stop requested", extra={"reason": reason})
        self.health.set_draining()
        self.stopping.set()

    def on_signal(self, name: str) -> None:
        """The first SIGTERM/SIGINT starts the drain; a second one stops waiting for it."""
        if not self.stopping.is_set():
            self.request_stop(name)
        elif not self._forced.is_set():
            log.warning("second signal: not waiting for in-flight work", extra={"signal": name})
            self._forced.set()

    @property
    def forced(self) -> bool:
        return self._forced.is_set()

    def set_ready(self) -> None:
        """Declare startup complete: /readyz now reflects the readiness checks."""
        self.health.set_started()
        log.info("service ready", extra={"service": self.settings.service_name})

    # --- in-flight work -------------------------------------------------------------------

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        """Run `coro` as a task that the drain waits for."""
        return self.track(asyncio.get_running_loop().create_task(coro, name=name))

    def supervise(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run a loop the service cannot live without: if it crashes, stop the whole process.

        A consumer loop that died while the process kept answering /livez would hold its
        partitions' work hostage; stopping lets the supervisor restart it and the group
        rebalance its partitions to the members that are alive.
        """

        async def supervised() -> None:
            try:
                await coro
            except Exception:
                log.exception("%s failed; stopping the service", name)
                self.request_stop(f"{name} failed")
                raise

        return self.spawn(supervised(), name=name)

    def track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Make the drain wait for an existing task."""
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "in-flight task failed", exc_info=task.exception(), extra={"task": task.get_name()}
            )

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # --- hooks ----------------------------------------------------------------------------

    def add_shutdown_hook(
        self,
        hook: ShutdownHook,
        *,
        phase: Phase = Phase.CLOSE,
        name: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run `hook` during `phase` of the shutdown, bounded by `timeout` seconds."""
        label = name or str(getattr(hook, "__qualname__", repr(hook)))
        self._hooks[phase].append((label, hook, timeout or self._hook_timeout))

    async def _run_hooks(self, phase: Phase) -> None:
        hooks = self._hooks[phase]
        # Close in reverse order of registration: what was opened last depends on what came first.
        ordered = reversed(hooks) if phase is Phase.CLOSE else iter(hooks)
        for label, hook, timeout in ordered:
            try:
                async with asyncio.timeout(timeout):
                    await hook()
            except TimeoutError:
                log.error(
                    "shutdown hook timed out",
                    extra={"hook": label, "phase": phase.name, "timeout_s": timeout},
                )
            except Exception:  # one broken hook must not skip the commits and closes after it
                log.exception("shutdown hook failed", extra={"hook": label, "phase": phase.name})

    # --- shutdown -------------------------------------------------------------------------

    async def _wait_in_flight(self, deadline: float) -> bool:
        """Wait for tracked tasks until `deadline`; True if all finished."""
        forced = asyncio.ensure_future(self._forced.wait())
        try:
            while self._tasks and not self._forced.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.wait(
                    {*self._tasks, forced}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            forced.cancel()
        return not self._tasks

    async def _hand_back(self) -> None:
        pending = list(self._tasks)
        log.warning(
            "drain timeout: cancelling in-flight work (it will be redelivered)",
            extra={"in_flight": len(pending)},
        )
        for task in pending:
            task.cancel()
        # Cancellation runs the tasks' cleanup; bounded so a task swallowing it cannot hang us.
        await asyncio.wait(pending, timeout=self._hook_timeout)

    async def shutdown(self) -> bool:
        """Drain and close; returns True if in-flight work finished within the drain timeout."""
        if self._shutdown_started:
            return bool(self.drained_cleanly)
        self._shutdown_started = True
        if not self.stopping.is_set():
            self.request_stop("shutdown")
        started = time.monotonic()
        deadline = started + self.settings.drain_timeout_seconds
        log.info(
            "draining",
            extra={
                "in_flight": self.in_flight,
                "drain_timeout_s": self.settings.drain_timeout_seconds,
            },
        )
        await self._run_hooks(Phase.STOP_FETCHING)
        drained = await self._wait_in_flight(deadline)
        if not drained:
            await self._hand_back()
        await self._run_hooks(Phase.COMMIT)
        await self._run_hooks(Phase.CLOSE)
        self.drained_cleanly = drained
        log.info(
            "service stopped",
            extra={
                "drained": drained,
                "shutdown_s": round(time.monotonic() - started, 3),
                "reason": self.stop_reason,
            },
        )
        return drained


def _install_signal_handlers(lifecycle: Lifecycle) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, lifecycle.on_signal, sig.name)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform without it
            continue
        installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


async def serve(
    main: MainFactory,
    *,
    settings: ServiceSettings,
    lifecycle: Lifecycle | None = None,
    http: bool = True,
    routes: Sequence[BaseRoute] = (),
) -> int:
    """Run `main` with health/metrics HTTP until stopped; returns the process exit code."""
    lc = lifecycle or Lifecycle(settings)
    remove_handlers = _install_signal_handlers(lc)
    log.info(
        "service starting",
        extra={
            "service": settings.service_name,
            "version": settings.version,
            "mode": settings.mode,
        },
    )
    exit_code = 0
    try:
        if http:
            server = HttpServer(
                build_app(lc.health, routes), host=settings.http_host, port=settings.http_port
            )
            await server.start()
            # Registered first so it closes last: /livez keeps answering throughout the drain.
            lc.add_shutdown_hook(server.shutdown, name="http server")
        main_task = lc.spawn(main(lc), name="main")
        stop_wait = asyncio.ensure_future(lc.stopping.wait())
        await asyncio.wait({main_task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        if main_task.done() and not main_task.cancelled() and main_task.exception() is not None:
            exit_code = 1  # already logged by Lifecycle._task_done
            lc.request_stop("main failed")
        elif main_task.done():
            lc.request_stop("main returned")
    except Exception:
        log.exception("service failed to start")
        exit_code = 1
    finally:
        await lc.shutdown()
        remove_handlers()
    if lc.forced:
        exit_code = exit_code or 1
    return exit_code


def run_service(
    main: MainFactory,
    *,
    settings: ServiceSettings,
    http: bool = True,
    routes: Sequence[BaseRoute] = (),
) -> int:
    """Configure logging/tracing/build info, run `main` on uvloop, return the exit code."""
    pin_mmap_threshold()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, version=settings.version)
    set_build_info(settings.service_name, settings.version)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop  # noqa: PLC0415 - optional accelerator

        loop_factory = uvloop.new_event_loop
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(serve(main, settings=settings, http=http, routes=routes))
    finally:
        shutdown_tracing()
