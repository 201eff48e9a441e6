"""Workload 5 on its own: `python -m bench.big --mode standalone|distributed [--requests 3]`.
Prints the latencies and, per service process, its idle RSS before the big bodies, its peak
RSS while they ran and the growth between the two (JSON).

The peak is the kernel's VmHWM. A process's start-up (imports, migrations, the studio) can
leave it above anything the bodies cause, so it is reset (`/proc/PID/clear_refs` = 5) once
the system is idle; `hwm_reset` says whether that worked (it needs the same user)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.procs import Reaper
from bench.procstat import process_tree
from bench.scenarist_side import (
    SCENARIOS,
    Scenarist,
    service_pids_by_name,
    start_distributed,
    start_standalone,
)
from bench.scenarist_workloads import big_payload

TARGET_GROWTH_OVER_BODY = 5.0
INFRA = ("java", "redis-server", "postgres")  # reported by big_payload, not held to the target


def _status(pid: int, field: str) -> int:
    """A `Vm*` field of /proc/PID/status in bytes (0 once the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def services(scenarist: Scenarist) -> dict[int, str]:
    """Our service processes (pid -> name): the infrastructure is not held to the target."""
    tree = process_tree(scenarist.roots(), scenarist.database)
    names = {pid: name for name, pid in service_pids_by_name().items()}
    if scenarist.mode == "standalone":
        names = {scenarist.roots()[0]: "standalone"}
    return {pid: names.get(pid, s.name) for pid, s in tree.items() if s.name not in INFRA}


def idle_baseline(pids: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Idle RSS (and the start-up peak) of each process, then its peak reset to now."""
    baseline = {}
    for pid in pids:
        startup_peak = _status(pid, "VmHWM")
        reset = _reset_peak(pid)
        baseline[pid] = {
            "idle_rss": _status(pid, "VmRSS"),
            "startup_peak_rss": startup_peak,
            "hwm_reset": reset,
        }
    return baseline


def growth(
    pids: dict[int, str], baseline: dict[int, dict[str, Any]], body_bytes: int
) -> dict[str, Any]:
    per_process: dict[str, Any] = {}
    for pid, name in sorted(pids.items()):
        peak = _status(pid, "VmHWM")
        grown = peak - baseline[pid]["idle_rss"]
        per_process[f"{name}[{pid}]"] = baseline[pid] | {
            "peak_rss": peak,
            "growth": grown,
            "growth_over_body": round(grown / body_bytes, 2),
            "peak_mib": round(peak / 2**20, 1),
            "growth_mib": round(grown / 2**20, 1),
        }
    largest = max((p["growth"] for p in per_process.values()), default=0)
    return {
        "per_service_process": per_process,
        "largest_growth_over_body": round(largest / body_bytes, 2),
        "target_growth_over_body": TARGET_GROWTH_OVER_BODY,
        "target_met": largest <= TARGET_GROWTH_OVER_BODY * body_bytes,
    }


def measure(scenarist: Scenarist, requests: int = 3) -> dict[str, Any]:
    """The big bodies through a running system (w5 applied), with each service process's
    growth over its idle RSS (make bench calls this too, after the other workloads)."""
    pids = services(scenarist)
    baseline = idle_baseline(pids)
    result = big_payload(scenarist, requests)
    return result | growth(pids, baseline, result["body_bytes"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.big", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("standalone", "distributed"), default="standalone")
    parser.add_argument("--requests", type=int, default=3)
    args = parser.parse_args(argv)
    with Reaper() as reaper:
        start = start_standalone if args.mode == "standalone" else start_distributed
        scenarist = start(reaper)
        scenarist.apply("w5", SCENARIOS / "w5-big.yaml")
        result = measure(scenarist, args.requests)
    json.dump(result, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
