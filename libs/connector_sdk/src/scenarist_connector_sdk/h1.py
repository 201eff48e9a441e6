"""A lean HTTP/1.1 transport for httpx: h11 over the guarded network backend, with its own pool.

httpx's default transport goes through httpcore's pool and connection classes, which take AnyIO
locks, events and cancel scopes on every request and re-plan the whole pool twice per request;
under the gateway's fan-out that was most of the HTTP client's CPU. This transport keeps what
matters and nothing else:

* every connection is opened by the network backend it is given (the SSRF-guarded one: the
  name is resolved and checked, and the socket goes to the checked address);
* idle connections are kept per origin (newest first) up to ``max_keepalive_connections`` and
  ``keepalive_expiry``; at most ``max_connections`` are open, later calls wait (pool timeout);
* a connection is reused only when the previous exchange ended cleanly and nothing arrived
  while it was idle (the server closing it shows as readable);
* a response not read to the end, an error or a cancellation closes its connection.

HTTP/1.1 only (ALPN offers only ``http/1.1``), no proxies, no upgrades: what the connectors use.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpcore
import httpx

__all__ = ["H1Transport"]

_READ_SIZE = 64 * 1024
_SWEEP_EVERY = 1.0  # seconds between expiry checks of every idle connection
Origin = tuple[bytes, bytes, int]

_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    h11.RemoteProtocolError: httpx.RemoteProtocolError,
    h11.LocalProtocolError: httpx.LocalProtocolError,
}


def _as_httpx(exc: Exception) -> Exception:
    """httpx's exception for a transport failure; anything else (the guard's refusals) as is."""
    for kind, mapped in _ERRORS.items():
        if isinstance(exc, kind):
            failure = mapped(str(exc) or type(exc).__name__)
            failure.__cause__ = exc
            return failure
    return exc


class _Connection:
    """One HTTP/1.1 connection: an h11 state machine over a network stream."""

    def __init__(self, origin: Origin, stream: httpcore.AsyncNetworkStream) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_until = 0.0

    def stale(self, now: float) -> bool:
        return now > self.idle_until or bool(self.stream.get_extra_info("is_readable"))

    async def send(self, request: httpx.Request, timeouts: dict[str, Any]) -> h11.Response:
        try:
            await self._write_request(request, timeouts.get("write"))
        except httpcore.WriteError as exc:
            # A server may answer and close before it has read the whole body (a 413 for an
            # upload too big): its answer says more than our broken write, when it sent one.
            try:
                return await self._response(timeouts.get("read"))
            except Exception:
                raise exc from None
        return await self._response(timeouts.get("read"))

    async def _write_request(self, request: httpx.Request, timeout: float | None) -> None:
        target = request.url.raw_path
        head = h11.Request(method=request.method, target=target, headers=request.headers.raw)
        await self.stream.write(self.h11.send(head) or b"", timeout)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            await self.stream.write(self.h11.send(h11.Data(data=chunk)) or b"", timeout)
        await self.stream.write(self.h11.send(h11.EndOfMessage()) or b"", timeout)

    async def _response(self, timeout: float | None) -> h11.Response:
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, h11.Response):
                return event
            # 1xx: nothing for us to act on (no Expect: 100-continue, no upgrades).

    async def next_event(self, timeout: float | None) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.h11.receive_data(await self.stream.read(_READ_SIZE, timeout))

    def reusable(self) -> bool:
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    async def aclose(self) -> None:
        await self.stream.aclose()


class _Body(httpx.AsyncByteStream):
    """The response body; gives the connection back (or closes it) when done."""

    def __init__(self, transport: H1Transport, connection: _Connection, timeout: Any) -> None:
        self._transport = transport
        self._connection = connection
        self._timeout = timeout
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while not self._done:
                event = await self._connection.next_event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    await self._finish(reuse=True)
        except BaseException as exc:
            await self._finish(reuse=False)
            raise _as_httpx(exc) if isinstance(exc, Exception) else exc  # noqa: B904

    async def aclose(self) -> None:
        await self._finish(reuse=False)  # closed before the end: the connection is unusable

    async def _finish(self, *, reuse: bool) -> None:
        if not self._done:
            self._done = True
            await self._transport.release(self._connection, reuse=reuse)


class H1Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over ``network_backend``; see the module docstring."""

    def __init__(
        self,
        network_backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        *,
        max_connections: int | None = 100,
        max_keepalive_connections: int | None = 100,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        self._backend = network_backend
        ssl_context.set_alpn_protocols(["http/1.1"])
        self._ssl = ssl_context
        self._max = max_connections if max_connections is not None else 1 << 30
        keep = max_keepalive_connections
        self._max_idle = min(self._max, keep) if keep is not None else self._max
        self._expiry = keepalive_expiry if keepalive_expiry is not None else float("inf")
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._open = 0  # in use, idle or connecting
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._next_sweep = 0.0
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def idle_connections(self) -> int:
        return self._idle_count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"refused the {url.scheme or 'missing'} scheme")
        origin: Origin = (url.raw_scheme, url.raw_host, url.port or _default_port(url))
        try:
            connection = await self._acquire(origin, timeouts)
        except Exception as exc:
            raise _as_httpx(exc)  # noqa: B904 - the cause is set when it is a new exception
        try:
            response = await connection.send(request, timeouts)
        except BaseException as exc:
            await self.release(connection, reuse=False)
            raise _as_httpx(exc) if isinstance(exc, Exception) else exc  # noqa: B904
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw_items(),
            stream=_Body(self, connection, timeouts.get("read")),
            extensions={
                "http_version": b"HTTP/" + response.http_version,
                "reason_phrase": response.reason,
                "network_stream": connection.stream,
            },
        )

    async def _acquire(self, origin: Origin, timeouts: dict[str, Any]) -> _Connection:
        if self._closed:
            raise httpcore.ConnectError("the transport is closed")
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + _SWEEP_EVERY
            await self._sweep(now)
        while True:
            found = await self._take_idle(origin, now)
            if found is not None:
                return found
            if self._open < self._max:
                break
            if self._idle_count:  # full, but with idle connections elsewhere: replace one
                await self._discard(self._oldest_idle())
                break
            await self._wait(timeouts.get("pool"))
            now = time.monotonic()
        self._open += 1
        try:
            return await self._connect(origin, timeouts.get("connect"))
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def _take_idle(self, origin: Origin, now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if not connection.stale(now):
                return connection
            await self._discard(connection)
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        name = host.decode("ascii")
        stream = await self._backend.connect_tcp(name, port, timeout=timeout)
        if scheme == b"https":
            try:
                stream = await stream.start_tls(self._ssl, server_hostname=name, timeout=timeout)
            except BaseException:
                await stream.aclose()
                raise
        return _Connection(origin, stream)

    async def release(self, connection: _Connection, *, reuse: bool) -> None:
        """A call is done with ``connection``: keep it for the next one or close it."""
        if (
            reuse
            and not self._closed
            and self._idle_count < self._max_idle
            and connection.reusable()
        ):
            connection.idle_until = time.monotonic() + self._expiry
            self._idle.setdefault(connection.origin, []).append(connection)
            self._idle_count += 1
            self._wake()
            return
        await self._discard(connection)

    async def _discard(self, connection: _Connection) -> None:
        """Close a connection that is in no idle list (taken out, or in use until now)."""
        self._open -= 1
        self._wake()
        await connection.aclose()

    def _oldest_idle(self) -> _Connection:
        oldest = min(
            (conns[0] for conns in self._idle.values() if conns), key=lambda c: c.idle_until
        )
        self._idle[oldest.origin].remove(oldest)
        self._idle_count -= 1
        return oldest

    async def _sweep(self, now: float) -> None:
        for origin, connections in list(self._idle.items()):
            stale = [c for c in connections if c.stale(now)]
            kept = [c for c in connections if c not in stale]
            if kept:
                self._idle[origin] = kept
            else:
                del self._idle[origin]
            self._idle_count -= len(stale)
            for connection in stale:
                await self._discard(connection)

    async def _wait(self, timeout: float | None) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError as exc:
            raise httpcore.PoolTimeout(f"no connection free within {timeout:g}s") from exc
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake()  # woken and cancelled at once: the turn goes to the next caller
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        self._closed = True
        idle = [c for conns in self._idle.values() for c in conns]
        self._idle.clear()
        self._idle_count = 0
        for connection in idle:
            await self._discard(connection)


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80
