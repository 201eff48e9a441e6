"""Workload 5 on its own: `python -m bench.big --mode standalone|distributed [--requests 3]`.
Prints the latencies and every process's peak RSS (JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from bench.procs import Reaper
from bench.scenarist_side import SCENARIOS, service_pids, start_distributed, start_standalone
from bench.scenarist_workloads import big_payload


def _rss(pid: int) -> int:
    """Current resident set of `pid` in bytes (the baseline before the big bodies)."""
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.big", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("standalone", "distributed"), default="standalone")
    parser.add_argument("--requests", type=int, default=3)
    args = parser.parse_args(argv)
    with Reaper() as reaper:
        start = start_standalone if args.mode == "standalone" else start_distributed
        scenarist = start(reaper)
        scenarist.apply("w5", SCENARIOS / "w5-big.yaml")
        before = {pid: _rss(pid) for pid in scenarist.roots()[:1] or service_pids()}
        result = big_payload(scenarist, args.requests)
        result["rss_before_by_pid"] = before
    json.dump(result, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
