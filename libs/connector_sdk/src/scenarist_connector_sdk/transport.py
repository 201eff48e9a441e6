"""An httpx transport whose every TCP connection goes through the :class:`AddressGuard`.

The guard lives in httpcore's network backend rather than in a URL check before sending: the
origin (and so the Host header, TLS SNI, certificate check and connection pool key) stays the
name the user wrote, while the socket connects to the address the guard checked. Nothing
resolves the name a second time, so DNS rebinding has no window.
"""

from __future__ import annotations

import asyncio
import builtins
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from scenarist_connector_sdk.aio import AsyncioBackend
from scenarist_connector_sdk.errors import BlockedTargetError
from scenarist_connector_sdk.h1 import H1Transport
from scenarist_connector_sdk.net import AddressGuard

__all__ = ["GuardedNetworkBackend", "GuardedTransport"]

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host, then connects to a checked address."""

    def __init__(
        self, guard: AddressGuard, delegate: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._delegate = delegate or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._guard.resolve(host, port)
        except builtins.TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        failure: Exception = httpcore.ConnectError(f"no address to connect to for {host}")
        for address in addresses:
            try:
                return await self._delegate.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedTargetError("refused a unix socket target")

    async def sleep(self, seconds: float) -> None:
        await self._delegate.sleep(seconds)


class GuardedTransport(H1Transport):
    """The HTTP/1.1 transport on the guarded backend; never uses proxies from the environment."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # As many kept alive as may be open: calls in flight at once find their connections
        # again instead of each opening (connect, resolve, check) a new one.
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)
        super().__init__(
            GuardedNetworkBackend(guard),
            context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )
