"""Scenarist-only workloads: 2 (async ingress and drain), 4 (fan-out over executors) and
5 (a 10 MB body through three modules)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.loadgen import Target, run_fast, run_point, single_request
from bench.procs import Reaper, log, read_ready_port, spawn, stop_group, wait_for
from bench.procstat import TreeMeter, peak_rss_by_name, process_tree, read_stat
from bench.scenarist_side import Scenarist, restart_executors, service_pids_by_name
from bench.workloads import PAYLOAD_W1

W5_TARGET_BYTES = 10 * 1024 * 1024
W4_ITEMS = 1000
W4_EXECUTORS = (1, 2, 4, 8)


def _accepted(status: int, body: bytes) -> bool:
    # The trigger answers 202, or 200 with {"accepted": true, "run_id": ...}.
    return status == 202 or (status == 200 and b'"accepted":true' in body.replace(b" ", b""))


def _target(scenarist: Scenarist, workload: str, body: bytes, check: Any) -> Target:
    host, port = scenarist.http_url.rsplit("/", 1)[-1].rsplit(":", 1)
    return Target(host, int(port), scenarist.hooks[workload], body, check)


def _open_runs(scenarist: Scenarist, scenario_id: str) -> int:
    listed = scenarist.cli(
        "run", "list", "--scenario", scenario_id, "--status", "queued", "--status", "running",
        timeout_s=120.0,
    )  # fmt: skip
    return len(listed.get("runs", []))


def async_ingress(
    scenarist: Scenarist, scenario_id: str, duration_s: float, concurrency: int = 64
) -> dict[str, Any]:
    """Workload 2: 202s per second at `concurrency`, then how long until every run finished."""
    target = _target(scenarist, "w2", PAYLOAD_W1, _accepted)
    meter = TreeMeter(scenarist.roots(), scenarist.database)
    point = run_fast(run_point(target, concurrency, duration_s, warmup_s=0.0, meter=meter))
    ingress_done = time.monotonic()
    drained = True
    try:
        wait_for(lambda: _open_runs(scenarist, scenario_id) == 0, "queued runs", 180.0, 1.0)
    except TimeoutError:
        drained = False
    drain_s = time.monotonic() - ingress_done
    summary = point.summary() | {"drain_s": round(drain_s, 1), "drained": drained}
    log(
        f"scenarist {scenarist.mode} w2: {summary['runs_per_s']} accepted/s (c={concurrency}), "
        f"all runs done {summary['drain_s']} s after the last 202"
    )
    return summary


def big_body() -> bytes:
    """A JSON body of about 10 MB: an array of small order-like records."""
    record = {"sku": "sku-000000", "qty": 1, "note": "x" * 64, "price": 12.5}
    one = len(orjson.dumps(record)) + 1
    count = W5_TARGET_BYTES // one
    return orjson.dumps({"records": [record] * count})


def big_payload(scenarist: Scenarist, requests: int = 3) -> dict[str, Any]:
    """Workload 5: the 10 MB body a few times in a row; latency and every process's peak RSS."""
    body = big_body()
    expected = len(orjson.loads(body)["records"])

    def check(status: int, answer: bytes) -> bool:
        return status == 200 and orjson.loads(answer).get("count") == expected

    target = _target(scenarist, "w5", body, check)
    latencies, failures = [], []
    for _ in range(requests):
        started = time.perf_counter()
        status, answer = run_fast(single_request(target, timeout_s=120.0))
        latencies.append(round((time.perf_counter() - started) * 1000, 1))
        if not check(status, answer):
            failures.append(f"HTTP {status}: {answer[:200]!r}")
    rss = peak_rss_by_name(process_tree(scenarist.roots(), scenarist.database))
    # The target is about our services; Kafka, Redis and Postgres are reported beside them.
    ours = [v for k, v in rss.items() if not k.startswith(("java[", "redis-server[", "postgres["))]
    largest = max(ours, default=0)
    result = {
        "body_bytes": len(body),
        "latencies_ms": latencies,
        "failures": failures,
        "peak_rss_by_process": rss,
        "largest_peak_rss_over_body": round(largest / len(body), 2),
    }
    log(f"scenarist {scenarist.mode} w5: {latencies} ms, largest RSS {largest / 2**20:.0f} MiB")
    return result


def fan_out(
    scenarist: Scenarist,
    scenario_id: str,
    reaper: Reaper,
    *,
    executors: tuple[int, ...] = W4_EXECUTORS,
    items: int = W4_ITEMS,
    restart: bool = True,
    timeout_s: float = 240.0,
    concurrency: int | None = None,
    repeats: int = 1,
) -> dict[str, Any]:
    """Workload 4: `items` HTTP calls to a 50 ms server with 1/2/4/8 executors (restarted
    between points when `restart`, each running up to `concurrency` tasks at once; None: the
    default). Per point: the run's own time (started -> finished, as the orchestrator recorded
    it), the CLI's wall time around `run start --wait`, and each service's CPU seconds. With
    `repeats` > 1 each point runs that many times in a row and reports its median run (all the
    times in `runs_s`): one run of the 4-executor point moves by ±5 % on this box."""
    slow = spawn([sys.executable, "-m", "bench.stub_server", "slow", "--delay-ms", "50"],
                 stdout_pipe=True)  # fmt: skip
    reaper.defer("slow server", lambda: stop_group(slow, "slow server"))
    url = f"http://127.0.0.1:{read_ready_port(slow)}/item"
    trigger = orjson.dumps({"url": url, "items": list(range(items))}).decode()
    warm_up = orjson.dumps({"url": url, "items": list(range(min(items, 50)))}).decode()
    results: dict[str, Any] = {}
    for count in executors:
        if restart:
            restart_executors(count, concurrency)
        # One small run first: connections, plans and consumer assignments are in place.
        scenarist.cli("run", "start", scenario_id, "--input", warm_up, "--wait",
                      "--timeout", str(timeout_s), timeout_s=timeout_s + 60.0)  # fmt: skip
        runs = [
            _fan_out_point(scenarist, scenario_id, trigger, items, timeout_s)
            for _ in range(max(1, repeats))
        ]
        point = sorted(runs, key=lambda run: run["run_s"])[len(runs) // 2]
        if len(runs) > 1:
            point = point | {"runs_s": [run["run_s"] for run in runs]}
        results[f"executors_{count}"] = point
        spread = f" (median of {point['runs_s']})" if "runs_s" in point else ""
        log(f"scenarist w4 with {count} executor(s), concurrency {concurrency or 'default'}: "
            f"{point['run_s']} s{spread}")  # fmt: skip
    base = results[f"executors_{executors[0]}"]["run_s"]
    for value in results.values():
        value["speedup"] = round(base / value["run_s"], 2) if value["run_s"] else None
    if restart:
        restart_executors(2)
    return results


def _fan_out_point(
    scenarist: Scenarist, scenario_id: str, trigger: str, items: int, timeout_s: float
) -> dict[str, Any]:
    if scenarist.mode == "distributed":
        pids = service_pids_by_name()
    else:
        pids = {"standalone": scenarist.roots()[0]}
    before = {name: _cpu(pid) for name, pid in pids.items()}
    started = time.monotonic()
    run = scenarist.cli(
        "run", "start", scenario_id, "--input", trigger, "--wait",
        "--timeout", str(timeout_s), timeout_s=timeout_s + 60.0,
    )  # fmt: skip
    wall = time.monotonic() - started
    cpu = {name: round(_cpu(pid) - before[name], 2) for name, pid in pids.items()}
    run_s = _run_seconds(run) or wall
    return {
        "run_s": round(run_s, 2),
        "cli_wall_s": round(wall, 2),
        "calls_per_s": round(items / run_s, 1),
        "status": run.get("status"),
        "operations": run.get("operations"),
        "cpu_seconds_by_service": cpu,
        "cpu_seconds_total": round(sum(cpu.values()), 2),
    }


def _cpu(pid: int) -> float:
    sample = read_stat(pid)
    return sample.cpu_seconds if sample else 0.0


def _run_seconds(run: dict[str, Any]) -> float | None:
    """finished_at - started_at of the run the CLI printed (RFC 3339, nanoseconds possible)."""
    try:
        started, finished = (_instant(run[k]) for k in ("started_at", "finished_at"))
    except (KeyError, ValueError):
        return None
    return finished - started


def _instant(text: str) -> float:
    head, _, rest = text.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp()
    return whole + (float("0." + rest) if rest else 0.0)
