"""Tiny local HTTP/1.1 servers the benchmark needs, run as their own process:

- `ok`: answers every request at once with a fixed small JSON body (the generator's ceiling);
- `slow`: answers after `--delay-ms` (workload 4's third-party API that takes 50 ms).

`python -m bench.stub_server ok|slow --port N [--delay-ms 50]`; prints `ready PORT` when
listening. Keep-alive, Content-Length bodies only (which is all our clients send).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import cast

from bench.loadgen import run_fast

BODY = b'{"ok":true}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class StubProtocol(asyncio.Protocol):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = _content_length(bytes(self.buffer[:end]))
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            del self.buffer[:total]
            self._answer()

    def _answer(self) -> None:
        if self.transport is None:
            return
        if self.delay_s <= 0:
            self.transport.write(RESPONSE)
            return
        # Answers leave in request order: one connection's requests are never pipelined by
        # our clients, so a timer per request keeps the order.
        asyncio.get_running_loop().call_later(self.delay_s, self._write_late)

    def _write_late(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


async def serve(port: int, delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: StubProtocol(delay_s), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    async with server:
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.stub_server")
    parser.add_argument("kind", choices=["ok", "slow"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0 if args.kind == "slow" else 0.0
    run_fast(serve(args.port, delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
