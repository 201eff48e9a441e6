"""An HTTP server (uvicorn) running inside the service's own event loop.

Services keep a single loop for Kafka, gRPC and HTTP: :meth:`HttpServer.start` binds the socket
itself (so port 0 gives an ephemeral port that :attr:`HttpServer.port` reports), runs uvicorn as a
task and returns once it accepts connections; :meth:`HttpServer.shutdown` stops it. uvicorn's own
signal handling is disabled: the :mod:`scenarist_runtime.lifecycle` owns SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence

import uvicorn
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from scenarist_runtime.health import HealthChecks, health_routes

__all__ = ["DirectRoute", "HttpServer", "build_app"]

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.01


class DirectRoute(Route):
    """``<prefix>{<param>}`` answered before Starlette's router and middleware run.

    For the per-request hot path (webhooks): Starlette's exception middlewares, request wrapper
    and route-by-route matching were a tenth of a standalone run's CPU. It matches what the
    route would (one non-empty path segment, the route's methods); any other request goes
    through Starlette as usual, and so does this route when the app is used without
    :func:`build_app`. An exception the endpoint lets out reaches uvicorn, which answers 500
    and logs it, as Starlette's outermost middleware would have.
    """

    def __init__(
        self,
        prefix: str,
        param: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: Sequence[str],
        name: str | None = None,
    ) -> None:
        super().__init__(f"{prefix}{{{param}}}", endpoint, methods=list(methods), name=name)
        self.prefix = prefix
        self.param = param

    def value(self, scope: Scope) -> str | None:
        """The parameter's value when `scope` is a request for this route, else None."""
        path: str = scope["path"]
        if not path.startswith(self.prefix) or scope["method"] not in (self.methods or ()):
            return None
        value = path[len(self.prefix) :]
        return value if value and "/" not in value else None


class _Direct:
    def __init__(self, app: ASGIApp, routes: Sequence[DirectRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                value = route.value(scope)
                if value is not None:
                    scope["path_params"] = {route.param: value}
                    response = await route.endpoint(Request(scope, receive))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def build_app(
    checks: HealthChecks,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    registry: CollectorRegistry | None = None,
) -> ASGIApp:
    """A Starlette app with the health/metrics routes and the service's own routes (with its
    :class:`DirectRoute`s answered ahead of it)."""
    routes = [*health_routes(checks, registry=registry), *extra_routes]
    app = Starlette(routes=routes)
    direct = [route for route in routes if isinstance(route, DirectRoute)]
    return _Direct(app, direct) if direct else app


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn would install SIGTERM/SIGINT handlers and re-raise the signal after serving,
        # which would kill the process before the lifecycle drained the Kafka consumers.
        yield


class HttpServer:
    """uvicorn serving `app` on (`host`, `port`) as a task of the running loop."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_timeout: int = 5,
        limit_concurrency: int | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._config = uvicorn.Config(
            app,
            lifespan="off",  # services start their resources themselves, before serving
            log_config=None,  # keep the JSON logging configured by scenarist_observability
            access_log=False,  # probe and scrape traffic would drown the useful lines
            ws="none",
            timeout_graceful_shutdown=graceful_timeout,
            limit_concurrency=limit_concurrency,
            server_header=False,
            # The client address is the socket peer: uvicorn would otherwise take it from
            # X-Forwarded-For sent via loopback, letting a local hop spoof webhook IP allow lists.
            # Services that sit behind proxies decide for themselves which ones they trust.
            proxy_headers=False,
        )
        self._server = _Server(self._config)
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the ephemeral one when constructed with port 0)."""
        if self._socket is None:
            raise RuntimeError("HttpServer.port read before start()")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def started(self) -> bool:
        return self._server.started

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on accepted sockets
        # whose proto says TCP, and accepted sockets inherit this one's. With Nagle on, a
        # response written as head + body waits for the client's delayed ACK (~40 ms).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.set_inheritable(False)
        except OSError:
            sock.close()
            raise
        return sock

    async def start(self, *, timeout: float = 10.0) -> None:
        """Bind, start serving, and return once uvicorn is accepting connections."""
        if self._task is not None:
            raise RuntimeError("HttpServer already started")
        self._socket = self._bind()
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name=f"http:{self.port}"
        )
        try:
            async with asyncio.timeout(timeout):
                while not self._server.started:
                    if self._task.done():
                        # serve() returned or raised before startup completed: surface why.
                        await self._task
                        raise RuntimeError("uvicorn stopped during startup")
                    await asyncio.sleep(_POLL_SECONDS)
        except BaseException:
            await self.shutdown(timeout=1.0)
            raise
        log.info("http server listening", extra={"url": self.url})

    async def shutdown(self, *, timeout: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish (bounded), close the socket."""
        task = self._task
        if task is None:
            return
        self._server.should_exit = True
        try:
            async with asyncio.timeout(timeout):
                await task
        except TimeoutError:
            log.warning("http server did not stop in time; cancelling", extra={"url": self.url})
            self._server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            if self._socket is not None:
                self._socket.close()
            self._task = None
