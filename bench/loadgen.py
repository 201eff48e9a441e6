"""A closed-loop HTTP/1.1 load generator on asyncio streams with keep-alive connections.

Each of `concurrency` workers owns one connection and sends the next request as soon as the
previous response is fully read, for a fixed duration after a warm-up. The request bytes are
built once; a response is read by Content-Length (or chunked). Latencies are kept as sorted
samples, which at these rates (< 10^6 per point) is exact and cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.procstat import TreeMeter, own_cpu_seconds

ResponseCheck = Callable[[int, bytes], bool]
T = TypeVar("T")


def build_request(method: str, host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Connection: keep-alive\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class HttpConnection:
    """One keep-alive connection; `exchange` sends a prepared request and reads the answer."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=64 * 1024 * 1024
            )
        return self._reader, self._writer

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status, length, chunked, close = _parse_head(head)
        if chunked:
            body = await _read_chunked(reader)
        else:
            body = await reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key == "content-length":
            length = int(value)
        elif key == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif key == "connection" and value.strip().lower() == "close":
            close = True
    return status, length, chunked, close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readline()  # the empty trailer line
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


@dataclass
class PointResult:
    """One (system, workload, concurrency) measurement."""

    concurrency: int
    duration_s: float
    completed: int
    errors: int
    latencies_ms: list[float] = field(repr=False, default_factory=list)
    sut_cpu_seconds: float = 0.0
    loadgen_cpu_seconds: float = 0.0
    first_error: str = ""

    @property
    def runs_per_s(self) -> float:
        return self.completed / self.duration_s if self.duration_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def summary(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "duration_s": round(self.duration_s, 2),
            "completed": self.completed,
            "errors": self.errors,
            "first_error": self.first_error,
            "runs_per_s": round(self.runs_per_s, 1),
            "p50_ms": round(self.percentile_ms(50), 2),
            "p90_ms": round(self.percentile_ms(90), 2),
            "p99_ms": round(self.percentile_ms(99), 2),
            "max_ms": round(max(self.latencies_ms, default=0.0), 2),
            "sut_cpu_cores": round(self.sut_cpu_seconds / self.duration_s, 2)
            if self.duration_s
            else 0.0,
            "loadgen_cpu_cores": round(self.loadgen_cpu_seconds / self.duration_s, 2)
            if self.duration_s
            else 0.0,
        }


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted samples."""
    if not samples:
        return 0.0
    rank = max(0, min(len(samples) - 1, round(q / 100 * len(samples) + 0.5) - 1))
    return samples[rank]


@dataclass
class Target:
    host: str
    port: int
    path: str
    body: bytes
    check: ResponseCheck
    method: str = "POST"

    def request(self) -> bytes:
        return build_request(self.method, self.host, self.port, self.path, self.body)


@dataclass
class _Tally:
    recording: bool = False
    completed: int = 0
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list)

    def error(self, text: str) -> None:
        if self.recording:
            self.errors += 1
        self.first_error = self.first_error or text[:300]


async def _worker(target: Target, request: bytes, tally: _Tally, deadline: list[float]) -> None:
    connection = HttpConnection(target.host, target.port)
    clock = time.perf_counter
    try:
        while clock() < deadline[0]:
            started = clock()
            try:
                status, body = await connection.exchange(request)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(f"{type(exc).__name__}: {exc}")
                await connection.close()
                await asyncio.sleep(0.01)  # a refused connection must not spin the loop
                continue
            elapsed = clock() - started
            if not target.check(status, body):
                tally.error(f"HTTP {status}: {body[:200]!r}")
                continue
            if tally.recording:
                tally.completed += 1
                tally.latencies.append(elapsed * 1000.0)
    finally:
        await connection.close()


async def run_point(
    target: Target,
    concurrency: int,
    duration_s: float,
    warmup_s: float,
    meter: TreeMeter | None = None,
) -> PointResult:
    """Warm up, then measure `duration_s` of closed-loop load at `concurrency`."""
    request = target.request()
    tally = _Tally()
    loop_start = time.perf_counter()
    deadline = [loop_start + warmup_s + duration_s + 3600.0]  # moved once measuring starts
    workers = [
        asyncio.create_task(_worker(target, request, tally, deadline)) for _ in range(concurrency)
    ]
    await asyncio.sleep(warmup_s)
    tally.recording = True
    if meter:
        meter.start()
    own_before = own_cpu_seconds()
    measured_from = time.perf_counter()
    deadline[0] = measured_from + duration_s
    await asyncio.sleep(duration_s)
    tally.recording = False
    measured = time.perf_counter() - measured_from
    own_used = own_cpu_seconds() - own_before
    if meter:
        meter.stop()
    await asyncio.wait_for(asyncio.gather(*workers, return_exceptions=True), timeout=120.0)
    return PointResult(
        concurrency=concurrency,
        duration_s=measured,
        completed=tally.completed,
        errors=tally.errors,
        latencies_ms=sorted(tally.latencies),
        sut_cpu_seconds=meter.cpu_seconds if meter else 0.0,
        loadgen_cpu_seconds=own_used,
        first_error=tally.first_error,
    )


async def single_request(target: Target, timeout_s: float = 30.0) -> tuple[int, bytes]:
    connection = HttpConnection(target.host, target.port)
    try:
        return await asyncio.wait_for(connection.exchange(target.request()), timeout_s)
    finally:
        await connection.close()


async def wait_until_answering(target: Target, timeout_s: float, good_in_a_row: int = 5) -> None:
    """Poll until `good_in_a_row` consecutive requests pass the check (n8n answers 404 for a
    few seconds after its port opens)."""
    deadline = time.monotonic() + timeout_s
    good, last = 0, ""
    while time.monotonic() < deadline:
        try:
            status, body = await single_request(target, timeout_s=10.0)
            ok = target.check(status, body)
            last = f"HTTP {status}: {body[:200]!r}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            ok, last = False, f"{type(exc).__name__}: {exc}"
        good = good + 1 if ok else 0
        if good >= good_in_a_row:
            return
        await asyncio.sleep(0.0 if ok else 0.25)
    raise TimeoutError(f"{target.host}:{target.port}{target.path} never answered well: {last}")


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop when present (it is in the workspace venv): the generator's own
    ceiling matters more than anything else in it."""
    try:
        import uvloop  # noqa: PLC0415 — optional speed-up
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def loop_name() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]
