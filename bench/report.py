"""Tables on stdout and the JSON files under .bench/: the figures, the machine, the ratios."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / ".bench"
STEPS = 40


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        mem_kb = int(meminfo.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _output(["node", "--version"]),
    }


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(  # noqa: S603 — fixed argv, no shell
            argv, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()
    except OSError:
        return ""


def meta(command: str) -> dict[str, Any]:
    return {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "machine": machine(),
        "loadavg_at_start": os.getloadavg(),
    }


def point(system: dict[str, Any], workload: str, concurrency: int) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        system.get("workloads", {}).get(workload, {}).get("points", {}).get(f"c{concurrency}")
    )
    return found


def step_overhead(system: dict[str, Any], workload: str = "w3") -> dict[str, Any] | None:
    """Workload 3's shape: total wall time of the 40-step run and the cost of one step
    (the chain's p50 minus the empty webhook -> response p50, over 40)."""
    chain, base = point(system, workload, 1), point(system, "w3-base", 1)
    if chain is None:
        return None
    figures = {"total_wall_p50_ms": chain["p50_ms"], "total_wall_p99_ms": chain["p99_ms"]}
    if base is not None:
        figures["per_step_p50_ms"] = round((chain["p50_ms"] - base["p50_ms"]) / STEPS, 3)
    return figures


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def ratios(systems: dict[str, Any], ours: str, peer: str) -> list[dict[str, Any]]:
    """Scenarist/n8n per workload and concurrency: > 1 is better for runs/s, < 1 for latency
    and memory."""
    a, b = systems.get(ours, {}), systems.get(peer, {})
    rows = []
    for workload in sorted(set(a.get("workloads", {})) | {"w3-inline"}):
        peer_workload = "w3" if workload == "w3-inline" else workload
        for key in a.get("workloads", {}).get(workload, {}).get("points", {}):
            concurrency = int(key[1:])
            mine, theirs = point(a, workload, concurrency), point(b, peer_workload, concurrency)
            if mine is None or theirs is None:
                continue
            rows.append(
                {
                    "pair": f"{ours} / {peer}",
                    "workload": workload,
                    "concurrency": concurrency,
                    "runs_per_s": _ratio(mine["runs_per_s"], theirs["runs_per_s"]),
                    "p50": _ratio(mine["p50_ms"], theirs["p50_ms"]),
                    "p99": _ratio(mine["p99_ms"], theirs["p99_ms"]),
                }
            )
    if a.get("peak_rss_bytes") and b.get("peak_rss_bytes"):
        rows.append(
            {
                "pair": f"{ours} / {peer}",
                "workload": "peak_rss",
                "peak_rss": _ratio(a["peak_rss_bytes"], b["peak_rss_bytes"]),
            }
        )
    return rows


def print_systems(systems: dict[str, Any]) -> None:
    header = (
        f"{'system':<24} {'workload':<10} {'c':>3} {'runs/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'errors':>6} {'sys cores':>9} {'gen cores':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, system in systems.items():
        if "error" in system:
            print(f"{name:<24} not measured: {system['error'][:300]}")
            continue
        for workload, data in system.get("workloads", {}).items():
            for key, p in data["points"].items():
                print(
                    f"{name:<24} {workload:<10} {key[1:]:>3} {p['runs_per_s']:>9.1f} "
                    f"{p['p50_ms']:>9.2f} {p['p99_ms']:>9.2f} {p['errors']:>6} "
                    f"{p['sut_cpu_cores']:>9.2f} {p['loadgen_cpu_cores']:>9.2f}"
                )
        rss = system.get("peak_rss_bytes", 0) / 1024 / 1024
        overhead = step_overhead(system)
        extra = (
            f", w3 per-step p50 {overhead['per_step_p50_ms']} ms"
            if overhead and ("per_step_p50_ms" in overhead)
            else ""
        )
        print(f"{name:<24} peak RSS (sum of processes' high-water marks) {rss:,.0f} MiB{extra}")
    print()


def print_ratios(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    print(f"{'pair':<44} {'workload':<10} {'c':>3} {'runs/s':>7} {'p50':>6} {'p99':>6}")
    for row in rows:
        if row["workload"] == "peak_rss":
            print(f"{row['pair']:<44} {'peak RSS':<10} {'':>3} {row['peak_rss']!s:>7}")
            continue
        print(
            f"{row['pair']:<44} {row['workload']:<10} {row['concurrency']:>3} "
            f"{row['runs_per_s']!s:>7} {row['p50']!s:>6} {row['p99']!s:>6}"
        )
    print("(Scenarist/n8n: runs/s above 1 is better; latency and RSS below 1 is better)\n")


def write(name: str, document: dict[str, Any]) -> Path:
    OUT_DIR.mkdir(exist_ok=True)
    path = OUT_DIR / name
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def print_fan_out(extra: dict[str, Any]) -> None:
    """Workload 4's series (default and bounded concurrency) as one table."""
    rows = [(k, v) for k, v in extra.items() if k.startswith("w4") and isinstance(v, dict)]
    if not rows:
        return
    print(f"{'w4 series':20} {'executors':>9} {'run s':>7} {'calls/s':>8} {'speed-up':>8} "
          f"{'CPU s':>6}  CPU s by service")  # fmt: skip
    for series, points in rows:
        for name, point in points.items():
            if not isinstance(point, dict) or "run_s" not in point:
                print(f"{series:20} {name}: {point}")
                continue
            by_service = ", ".join(
                f"{k} {v}" for k, v in sorted(point.get("cpu_seconds_by_service", {}).items())
            )
            runs = point.get("runs_s")
            print(
                f"{series:20} {name.removeprefix('executors_'):>9} {point['run_s']:>7} "
                f"{point['calls_per_s']:>8} {point['speedup']:>8} "
                f"{point.get('cpu_seconds_total', ''):>6}  {by_service}"
                + (f"  (median of {' / '.join(map(str, runs))} s)" if runs else "")
            )
