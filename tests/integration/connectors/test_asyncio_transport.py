"""The guarded transport (HTTP/1.1 pool, asyncio backend) against a real loopback server.

Covers what the backend and pool do on their own: the guard on every connect, connection
reuse under concurrency (no open/close per call), keep-alive and connection limits, a
server closing an idle connection, timeouts, back-pressure and chunked bodies.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from scenarist_connector_sdk import (
    BlockedTargetError,
    HttpLimits,
    NetPolicy,
    ResponseTooLargeError,
    SafeHttpClient,
    errors,
)
from scenarist_connector_sdk.aio import AsyncioBackend
from scenarist_connector_sdk.net import AddressGuard
from scenarist_connector_sdk.testing import static_resolver
from scenarist_connector_sdk.transport import GuardedNetworkBackend, GuardedTransport

pytestmark = pytest.mark.integration

BIG = bytes(range(256)) * 4096  # 1 MiB: more than the backend buffers before pausing reads
BOMB = gzip.compress(bytes(16 * 1024 * 1024))  # 16 MiB of zeros in about 16 KiB


class Server:
    """HTTP/1.1 on loopback; counts connections; the path picks the behaviour."""

    def __init__(self) -> None:
        self.accepted = 0
        self.open = 0
        self.closed = 0
        self.heads: list[bytes] = []
        self.peak = 0
        self.release = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self.writers:
            writer.close()
        await self._server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.peak = max(self.peak, self.open)
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                path = head.split(b" ", 2)[1].decode()
                if not await self._answer(path, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()
            await writer.wait_closed()  # the FIN is on its way once the socket is closed
            self.closed += 1

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> bool:
        if path == "/silent":
            await asyncio.Event().wait()  # never answers; the client's timeout ends it
        if path == "/held":
            await self.release.wait()
        if path == "/bomb":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n" % len(BOMB) + BOMB)
        elif path == "/set-cookie":
            writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=org-a; Path=/\r\n")
            writer.write(b"Content-Length: 2\r\n\r\nok")
        elif path == "/big":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG)
        elif path == "/early":  # answers without reading the body, then hangs up
            writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n")
            writer.write(b"Connection: close\r\n\r\ntoo big!")
            await writer.drain()
            return False
        elif path == "/chunked":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        return path != "/close-after"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    running = Server()
    await running.start()
    yield running
    await running.stop()


def client(*, limits: httpx.Limits | None = None, timeout: float = 5.0) -> SafeHttpClient:
    guard = AddressGuard(NetPolicy.parse("127.0.0.1/32"))
    transport = GuardedTransport(guard, limits=limits)
    return SafeHttpClient(guard, limits=HttpLimits(timeout=timeout), transport=transport)


async def test_connections_are_opened_through_the_guard_on_the_asyncio_backend() -> None:
    transport = GuardedTransport(AddressGuard())
    backend = transport._backend
    assert isinstance(backend, GuardedNetworkBackend)
    assert isinstance(backend._delegate, AsyncioBackend)
    await transport.aclose()


async def test_a_name_resolving_to_a_listening_loopback_server_never_reaches_it(
    server: Server,
) -> None:
    guard = AddressGuard(NetPolicy(), static_resolver({"internal.example.com": ["127.0.0.1"]}))
    http = SafeHttpClient(guard)
    try:
        with pytest.raises(BlockedTargetError, match="loopback"):
            await http.get(f"http://internal.example.com:{server.port}/")
    finally:
        await http.aclose()
    assert server.accepted == 0


async def test_concurrent_calls_reuse_their_connections(server: Server) -> None:
    http = client()
    try:
        for _ in range(3):
            responses = await asyncio.gather(*(http.get(server.url("/")) for _ in range(30)))
            assert {r.content for r in responses} == {b"ok"}
    finally:
        await http.aclose()
    # httpcore's own pool closed every connection past 20 in flight and reopened it per call.
    assert server.accepted <= 30


async def test_connections_stay_within_the_limits(server: Server) -> None:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
    http = client(limits=limits)
    try:
        calls = [asyncio.create_task(http.get(server.url("/held"))) for _ in range(10)]
        for _ in range(200):
            if server.open == 4:
                break
            await asyncio.sleep(0.01)
        server.release.set()
        assert {r.content for r in await asyncio.gather(*calls)} == {b"ok"}
        assert server.peak == 4
        transport = http._client._transport
        assert isinstance(transport, GuardedTransport)
        assert transport.open_connections == transport.idle_connections == 2
    finally:
        await http.aclose()


async def test_a_connection_the_server_closed_is_not_reused(server: Server) -> None:
    http = client()
    try:
        assert (await http.get(server.url("/close-after"))).content == b"ok"
        for _ in range(200):
            if server.closed == 1:
                break
            await asyncio.sleep(0.01)
        assert (await http.get(server.url("/"))).content == b"ok"
    finally:
        await http.aclose()
    assert server.accepted == 2


async def test_a_silent_server_times_out(server: Server) -> None:
    http = client(timeout=0.3)
    try:
        with pytest.raises(errors.TimeoutError):
            await http.get(server.url("/silent"))
    finally:
        await http.aclose()


async def test_large_and_chunked_bodies_arrive_whole(server: Server) -> None:
    http = client()
    try:
        big = await http.get(server.url("/big"))
        chunked = await http.get(server.url("/chunked"))
    finally:
        await http.aclose()
    assert big.content == BIG
    assert chunked.content == b"hello world"


async def test_a_refused_connection_is_a_connection_error() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    http = client()
    try:
        with pytest.raises(errors.ConnectionError):
            await http.get(f"http://127.0.0.1:{port}/")
    finally:
        await http.aclose()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl tool to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_https_through_start_tls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure")
        await writer.drain()
        writer.close()

    tls_server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=served)
    port = tls_server.sockets[0].getsockname()[1]
    trusted = ssl.create_default_context(cafile=str(cert))
    guard = AddressGuard(NetPolicy.parse("127.0.0.1/32"))
    transport = GuardedTransport(guard, verify=trusted)
    http = SafeHttpClient(guard, transport=transport)
    untrusted = SafeHttpClient(guard)  # the system's CAs: the self-signed server is refused
    try:
        assert (await http.get(f"https://127.0.0.1:{port}/")).content == b"secure"
        with pytest.raises(errors.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.get(f"https://127.0.0.1:{port}/")
    finally:
        await http.aclose()
        await untrusted.aclose()
        tls_server.close()
        await tls_server.wait_closed()


async def test_a_call_cut_short_gives_its_connection_slot_back(server: Server) -> None:
    http = client(limits=httpx.Limits(max_connections=1), timeout=0.3)
    try:
        with pytest.raises(errors.TimeoutError):  # holds the only connection, then cancelled
            await http.get(server.url("/held"))
        server.release.set()
        assert (await http.get(server.url("/"))).content == b"ok"
        transport = http._client._transport
        assert isinstance(transport, GuardedTransport)
        assert transport.open_connections == 1
    finally:
        await http.aclose()


async def test_a_call_waiting_for_a_full_pool_times_out(server: Server) -> None:
    http = client(limits=httpx.Limits(max_connections=1))
    try:
        holder = asyncio.create_task(http.get(server.url("/held")))
        for _ in range(200):
            if server.open == 1:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(errors.TimeoutError):
            await http.get(server.url("/"), timeout=0.3)
        server.release.set()
        assert (await holder).content == b"ok"
    finally:
        await http.aclose()


async def test_a_cookie_one_call_was_given_is_not_sent_on_the_next(server: Server) -> None:
    http = SafeHttpClient(AddressGuard(NetPolicy.parse("127.0.0.1/32")))
    try:
        await http.get(server.url("/set-cookie"))  # say, organization A's call
        await http.get(server.url("/"))  # organization B's, on the same shared client
    finally:
        await http.aclose()
    assert b"org-a" not in server.heads[1].lower()
    assert b"cookie:" not in server.heads[1].lower()


async def test_no_keep_alive_closes_every_connection_after_its_call(server: Server) -> None:
    http = client(limits=httpx.Limits(max_connections=10, max_keepalive_connections=0))
    try:
        for _ in range(3):
            assert (await http.get(server.url("/"))).content == b"ok"
        transport = http._client._transport
        assert isinstance(transport, GuardedTransport)
        assert transport.open_connections == transport.idle_connections == 0
    finally:
        await http.aclose()
    assert server.accepted == 3


async def test_a_decompression_bomb_is_cut_at_the_response_limit(server: Server) -> None:
    guard = AddressGuard(NetPolicy.parse("127.0.0.1/32"))
    http = SafeHttpClient(guard, limits=HttpLimits(max_response_bytes=1024 * 1024))
    try:
        with pytest.raises(ResponseTooLargeError):
            await http.get(server.url("/bomb"))
    finally:
        await http.aclose()


async def test_an_answer_sent_before_the_upload_ended_is_the_response(server: Server) -> None:
    """The server answers 413 and hangs up while a streamed body is still going out: the caller
    gets the 413 (as from httpcore), not the broken write."""
    sent = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield BIG
        await asyncio.sleep(0.2)  # the server has answered and closed by now
        sent.set()
        for _ in range(8):
            yield BIG

    guard = AddressGuard(NetPolicy.parse("127.0.0.1/32"))
    async with httpx.AsyncClient(transport=GuardedTransport(guard), trust_env=False) as http:
        response = await http.post(server.url("/early"), content=body())
        assert (response.status_code, response.content) == (413, b"too big!")
        assert sent.is_set()
        # The connection is not kept: the next call works on a new one.
        assert (await http.get(server.url("/"))).status_code == 200
