"""The connector gateway's CPU per HTTP call, without Kafka or the other services:
`python -m bench.gateway_cpu [--layer client|runtime|grpc] [--calls 1000] [--concurrency 64]
[--rounds 3]`.

Starts the 50 ms stub server (workload 4's third party), then makes `--calls` GET calls at
`--concurrency` at once through one layer of the gateway, on uvloop like the services:

- `client`: `SafeHttpClient.request` (guard, transport, httpx, httpcore);
- `runtime`: `ConnectorRuntime.execute("http:MakeRequest", ...)` (module, context, bundle);
- `grpc`: the gateway's internal ExecuteModule port (interceptors, ModuleRunner), driven by a
  child process so only the server side is counted.

Prints, per round, the measured process's CPU milliseconds per call and the wall time, and the
connections the stub server accepted (a pool that reuses them opens about `--concurrency`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from bench.loadgen import run_fast
from bench.procs import read_ready_port, spawn, stop_group

SECRET = "bench-internal-secret"  # noqa: S105 - a loopback-only benchmark secret


def _runtime() -> Any:
    from scenarist_connector_sdk import (  # noqa: PLC0415 - the child process needs none of it
        ConnectorRuntime,
        NetPolicy,
        RuntimeSettings,
    )

    return ConnectorRuntime(settings=RuntimeSettings(allow=NetPolicy.parse("127.0.0.1/32")))


async def _fan(calls: int, concurrency: int, one: Any) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def call(i: int) -> None:
        async with gate:
            await one(i)

    await asyncio.gather(*(call(i) for i in range(calls)))


async def _measure(args: argparse.Namespace, url: str, one: Any) -> list[dict[str, float]]:
    await _fan(min(args.calls, 100), args.concurrency, one)  # warm: imports, pool, plans
    rounds = []
    for _ in range(args.rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        await _fan(args.calls, args.concurrency, one)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rounds.append(
            {"cpu_ms_per_call": round(1000 * cpu / args.calls, 3), "wall_s": round(wall, 2)}
        )
    return rounds


async def _local(args: argparse.Namespace, url: str) -> list[dict[str, float]]:
    runtime = _runtime()
    try:
        if args.layer == "client":

            async def one(i: int) -> None:
                response = await runtime.http.request("GET", f"{url}?item={i}")
                assert response.status_code == 200

        else:

            async def one(i: int) -> None:
                bundles = await runtime.execute(
                    "http:MakeRequest", {"url": f"{url}?item={i}", "method": "get"}
                )
                assert bundles[0]["statusCode"] == 200

        return await _measure(args, url, one)
    finally:
        await runtime.aclose()


async def _grpc(args: argparse.Namespace, url: str) -> list[dict[str, float]]:
    from scenarist_connector_gateway.execution import ModuleRunner  # noqa: PLC0415
    from scenarist_connector_gateway.internal import start_internal_server  # noqa: PLC0415
    from scenarist_connector_gateway.limits import RateLimits  # noqa: PLC0415
    from scenarist_limiter import MemoryRateLimiter  # noqa: PLC0415

    runtime = _runtime()
    runner = ModuleRunner(runtime, None, None, MemoryRateLimiter(), RateLimits())  # type: ignore[arg-type]
    server, port = await start_internal_server(runner, SECRET, "127.0.0.1", 0)
    try:
        rounds = []
        for _ in range(args.rounds + 1):  # the first is the warm-up
            cpu, wall = time.process_time(), time.perf_counter()
            child = [sys.executable, "-m", "bench.gateway_cpu", "--role", "client",
                     "--port", str(port), "--url", url, "--calls", str(args.calls),
                     "--concurrency", str(args.concurrency)]  # fmt: skip
            process = await asyncio.create_subprocess_exec(*child)
            assert await process.wait() == 0
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rounds.append(
                {"cpu_ms_per_call": round(1000 * cpu / args.calls, 3), "wall_s": round(wall, 2)}
            )
        return rounds[1:]
    finally:
        await server.stop(1.0)
        await runtime.aclose()


async def _client(args: argparse.Namespace) -> None:
    import grpc  # noqa: PLC0415
    from scenarist.connector.v1 import connector_service_pb2 as pb  # noqa: PLC0415
    from scenarist.connector.v1 import connector_service_pb2_grpc as pb_grpc  # noqa: PLC0415

    async with grpc.aio.insecure_channel(f"127.0.0.1:{args.port}") as channel:
        stub = pb_grpc.ConnectorServiceStub(channel)
        run = pb.RunInfo(run_id="r", organization_id="00000000-0000-0000-0000-000000000001")
        metadata = (("authorization", f"Bearer {SECRET}"),)

        async def one(i: int) -> None:
            inputs = json.dumps({"url": f"{args.url}?item={i}", "method": "get"})
            request = pb.ExecuteModuleRequest(
                app="http", module="MakeRequest", inputs=inputs, run=run
            )
            response = await stub.ExecuteModule(request, metadata=metadata, timeout=30)
            assert response.WhichOneof("outcome") != "error", response

        await _fan(args.calls, args.concurrency, one)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.gateway_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer", choices=("client", "runtime", "grpc"), default="grpc")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--role", choices=("measure", "client"), default="measure")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--url", default="")
    args = parser.parse_args(argv)
    if args.role == "measure":
        # Logging as in the services (JSON lines, INFO), written where nobody reads them.
        from scenarist_observability.logging import configure_logging  # noqa: PLC0415

        configure_logging("connector_gateway", stream=open(os.devnull, "w"))  # noqa: SIM115
    if args.role == "client":
        run_fast(_client(args))
        return 0
    slow = spawn([sys.executable, "-m", "bench.stub_server", "slow", "--delay-ms", "50"],
                 stdout_pipe=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{read_ready_port(slow)}/item"
        body = _grpc(args, url) if args.layer == "grpc" else _local(args, url)
        rounds = run_fast(body)
        print(json.dumps({"layer": args.layer, "concurrency": args.concurrency, "pid": os.getpid(),
                          "rounds": rounds}))  # fmt: skip
    finally:
        stop_group(slow, "slow server")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
