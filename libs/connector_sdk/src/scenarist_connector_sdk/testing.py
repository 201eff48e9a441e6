"""Test kit for connector authors: a fake context, a static resolver and a local HTTP server.

``FakeHttpServer`` runs a threaded stdlib server on 127.0.0.1 with routes you declare; the
``FakeContext`` it pairs with has an allow list that opens exactly that loopback address, so the
SSRF guard stays on in tests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scenarist_connector_sdk.auth import Connection, TokenCache, authenticator_for
from scenarist_connector_sdk.context import ActionContext, ConnectorLogger, Redactor, RunInfo
from scenarist_connector_sdk.http import HttpLimits, SafeHttpClient
from scenarist_connector_sdk.net import AddressGuard, NetPolicy, Resolver

__all__ = [
    "FakeHttpServer",
    "FakeMetrics",
    "FakeRequest",
    "FakeResponse",
    "fake_context",
    "static_resolver",
]


def static_resolver(table: Mapping[str, Iterable[str]]) -> Resolver:
    """A resolver that answers from ``table`` (no DNS); unknown names fail like NXDOMAIN."""
    answers = {name.lower().rstrip("."): list(addrs) for name, addrs in table.items()}

    async def resolve(host: str, port: int) -> list[str]:
        try:
            return answers[host.lower().rstrip(".")]
        except KeyError:
            raise OSError(f"name not known: {host}") from None

    return resolve


@dataclass
class FakeMetrics:
    """Records every metric call as ``(kind, name, value, labels)``."""

    calls: list[tuple[str, str, float, dict[str, str]]] = field(default_factory=list)

    def increment(self, name: str, value: float = 1.0, **labels: str) -> None:
        self.calls.append(("increment", name, value, labels))

    def observe(self, name: str, value: float, **labels: str) -> None:
        self.calls.append(("observe", name, value, labels))


def fake_context(
    *,
    connection: Connection | None = None,
    allow: Iterable[str] = ("127.0.0.1/32",),
    resolver: Resolver | None = None,
    limits: HttpLimits | None = None,
    run: RunInfo | None = None,
    logger: logging.Logger | None = None,
) -> ActionContext:
    """An ActionContext for unit tests: guarded client opened to loopback, metrics recorded.

    Close ``ctx.http`` (``await ctx.http.aclose()``) at the end of the test.
    """
    redactor = Redactor(connection.secrets.values() if connection else ())
    http = SafeHttpClient(AddressGuard(NetPolicy.parse(allow), resolver), limits=limits)
    auth = authenticator_for(connection, http, TokenCache(), redactor)
    return ActionContext(
        http=http.with_auth(auth),
        secrets=MappingProxyType(dict(connection.secrets) if connection else {}),
        parameters=MappingProxyType(dict(connection.parameters) if connection else {}),
        logger=ConnectorLogger(logger or logging.getLogger("scenarist.connector.test"), redactor),
        metrics=FakeMetrics(),
        run=run or RunInfo(run_id="run-test", module_id=1, idempotency_key="idem-test"),
        connection_type=connection.type if connection else "none",
    )


@dataclass(frozen=True)
class FakeRequest:
    """What the fake server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class FakeResponse:
    """What a route answers; ``json`` sets the body and content type."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(
        cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> FakeResponse:
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, merged, json.dumps(value).encode())


Route = Callable[[FakeRequest], FakeResponse]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up early (size-limit and timeout tests) are expected, not news.
        return None


class FakeHttpServer:
    """A local HTTP server for tests; routes by ``(METHOD, path)``, ``*`` matches any method."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[FakeRequest] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, handler: Route) -> None:
        self.routes[(method.upper(), path)] = handler

    def __enter__(self) -> FakeHttpServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, request: FakeRequest) -> FakeResponse:
        self.requests.append(request)
        route = self.routes.get((request.method, request.path)) or self.routes.get(
            ("*", request.path)
        )
        return route(request) if route else FakeResponse(404, body=b"no such route")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = FakeRequest(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                response = server._answer(request)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                given = {name.lower() for name in response.headers}
                if not given & {"content-length", "transfer-encoding"}:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            # http.server dispatches on these exact names.
            do_GET = do_POST = do_PUT = do_PATCH = _serve  # noqa: N815
            do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
