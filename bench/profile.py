"""Profile Scenarist standalone under one workload with py-spy (the bench issue asks for a
profile of every figure that misses its target).

    .venv/bin/python -m bench.profile --workload w1 --concurrency 16 --seconds 15 \
        [--py-spy /path/to/py-spy] [--out .bench/profile-w1.txt]

py-spy is not a project dependency (it needs ptrace and is an operator's tool): pass its path or
have it on PATH (`pipx install py-spy`, or `python3 -m venv /tmp/spy && /tmp/spy/bin/pip install
py-spy`). Writes py-spy's raw collapsed stacks and a summary of the hottest frames (own and
cumulative share of samples) next to them.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
from pathlib import Path

from bench.loadgen import run_fast, run_point
from bench.peers import SCENARIST_DOCUMENTS, SCENARIST_SPECS
from bench.procs import Reaper, log
from bench.scenarist_side import REPO, start_standalone
from bench.workloads import Endpoint, wait_ready

OUT_DIR = REPO / ".bench"


def summarize(collapsed: Path, top: int = 45) -> str:
    """Own and cumulative sample shares per frame from py-spy's collapsed output."""
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count
    lines = [f"{total} samples", "", "own %  frame"]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "cumulative %  frame"]
    lines += [f"{100 * n / total:5.1f}  {f}" for f, n in cumulative.most_common(top * 2)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workload", default="w1", choices=sorted(SCENARIST_DOCUMENTS))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--native", action="store_true", help="C frames too (py-spy --native)")
    args = parser.parse_args(argv)
    if not args.py_spy:
        parser.error("py-spy not found: pass --py-spy")
    out = args.out or OUT_DIR / f"profile-{args.workload}-c{args.concurrency}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = next(s for s in SCENARIST_SPECS if s.key == args.workload)
    reaper = Reaper()
    try:
        scenarist = start_standalone(reaper)
        scenarist.apply(spec.key, SCENARIST_DOCUMENTS[spec.key])
        host, port = scenarist.http_url.rsplit("/", 1)[-1].rsplit(":", 1)
        endpoint = Endpoint("profile", host, int(port), dict(scenarist.hooks), scenarist.roots)
        run_fast(wait_ready(endpoint, [spec], 60.0))
        pid = scenarist.roots()[0]
        collapsed = out.with_suffix(".collapsed")
        spy = subprocess.Popen(  # noqa: S603 — operator-given tool path, fixed argv
            [args.py_spy, "record", "-p", str(pid), "-r", "200", "-d", str(int(args.seconds)),
             "-f", "raw", "-o", str(collapsed), *(["--native"] if args.native else [])],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        point = run_fast(
            run_point(endpoint.target(spec), args.concurrency, args.seconds, warmup_s=1.0)
        )
        spy.wait(timeout=args.seconds + 60)
        summary = point.summary()
        log(f"{spec.key} c={args.concurrency}: {summary['runs_per_s']} runs/s, p50 "
            f"{summary['p50_ms']} ms, p99 {summary['p99_ms']} ms")  # fmt: skip
        out.write_text(summarize(collapsed) + "\n")
        log(f"profile summary in {out}, collapsed stacks in {collapsed}")
    finally:
        reaper.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
