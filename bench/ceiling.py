"""The load generator's own ceiling: the same closed loop against a server that does nothing.

Every figure the benchmark reports is only meaningful well below this ceiling, so it is
measured first and printed with the results. `python -m bench.ceiling [--duration 5]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.loadgen import Target, loop_name, run_fast, run_point, wait_until_answering
from bench.procs import Reaper, log, read_ready_port, spawn, stop_group
from bench.procstat import TreeMeter

CONCURRENCIES = (1, 16, 64)


def _ok(status: int, body: bytes) -> bool:
    return status == 200


async def measure(port: int, duration_s: float, server_pid: int) -> dict[str, Any]:
    target = Target("127.0.0.1", port, "/", b'{"order_id": 1}', _ok)
    await wait_until_answering(target, timeout_s=10.0)
    points = []
    for concurrency in CONCURRENCIES:
        meter = TreeMeter([server_pid])
        point = await run_point(target, concurrency, duration_s, warmup_s=1.0, meter=meter)
        points.append(point.summary())
    return {"loop": loop_name(), "points": points}


def measure_ceiling(reaper: Reaper, duration_s: float) -> dict[str, Any]:
    server = spawn([sys.executable, "-m", "bench.stub_server", "ok"], stdout_pipe=True)
    reaper.defer("stub server", lambda: stop_group(server, "stub server"))
    try:
        port = read_ready_port(server)
        result = run_fast(measure(port, duration_s, server.pid))
    finally:
        stop_group(server, "stub server")
        reaper.forget("stub server")
    for point in result["points"]:
        log(
            f"generator ceiling c={point['concurrency']}: {point['runs_per_s']:.0f} req/s, "
            f"p50 {point['p50_ms']} ms, p99 {point['p99_ms']} ms, "
            f"generator {point['loadgen_cpu_cores']} cores, server {point['sut_cpu_cores']} cores"
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.ceiling")
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    with Reaper() as reaper:
        print(json.dumps(measure_ceiling(reaper, args.duration), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
