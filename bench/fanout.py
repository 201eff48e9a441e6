"""Workload 4 on its own: `python -m bench.fanout --mode standalone|distributed
--executors 1,2,4,8 [--items 1000] [--concurrency 64] [--repeats 1]`. Prints one line per
executor count (with `--repeats N`, the median of N runs) and the JSON result.

Standalone hosts one executor in its process, so `--executors` is ignored there.
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.procs import Reaper, log
from bench.scenarist_side import SCENARIOS, start_distributed, start_standalone
from bench.scenarist_workloads import fan_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("standalone", "distributed"), default="distributed")
    parser.add_argument("--executors", default="1,2,4,8")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=240.0, help="per run, seconds")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="tasks per executor at once (default 64)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs per point (the median counts)")
    args = parser.parse_args(argv)
    counts = tuple(int(n) for n in args.executors.split(",") if n)
    with Reaper() as reaper:
        if args.mode == "standalone":
            scenarist = start_standalone(reaper)
            counts = (1,)
        else:
            scenarist = start_distributed(reaper, executors=counts[0])
        scenario_id = scenarist.apply("w4", SCENARIOS / "w4-fanout.yaml")
        result = fan_out(
            scenarist,
            scenario_id,
            reaper,
            executors=counts,
            items=args.items,
            restart=args.mode == "distributed",
            timeout_s=args.timeout,
            concurrency=args.concurrency,
            repeats=args.repeats,
        )
    log(json.dumps(result))
    json.dump(result, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
