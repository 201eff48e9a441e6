"""`make bench-peers`: the same HTTP load against n8n and against Scenarist, side by side.

    .venv/bin/python -m bench.peers [--duration 10] [--warmup 4] [--scenarist MODES]

n8n (pinned, installed into the cache on first use) runs twice: default settings (executions
saved) and with execution saving off. Scenarist runs in the mode(s) asked for. Workloads 1
(3-step webhook scenario at concurrency 1/16/64) and 3 (40 sequential light modules, plus an
empty webhook -> response chain to subtract). Prints the tables, writes .bench/peers.json.
Everything listens on 127.0.0.1 and everything started here is stopped on exit.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import report
from bench.ceiling import measure_ceiling
from bench.loadgen import run_fast, run_point
from bench.n8n import N8n, install, make_workdir, version
from bench.procs import Reaper, log
from bench.scenarist_side import SCENARIOS, Scenarist, start_distributed, start_standalone
from bench.workloads import (
    W1,
    W3_BASE,
    W3_INLINE,
    W3_TASKS,
    Endpoint,
    LoadSpec,
    measure,
    wait_ready,
)

PEER_SPECS = [W1, W3_TASKS, W3_BASE]
SCENARIST_SPECS = [W1, W3_TASKS, W3_INLINE, W3_BASE]
SCENARIST_DOCUMENTS = {
    "w1": SCENARIOS / "w1-order.yaml",
    "w3": SCENARIOS / "w3-steps40-tasks.yaml",
    "w3-inline": SCENARIOS / "w3-steps40-inline.yaml",
    "w3-base": SCENARIOS / "w3-steps0.yaml",
}
READY_TIMEOUT_S = 120.0


def _fixed(pids: list[int]) -> Callable[[], list[int]]:
    return lambda: pids


async def drive(endpoint: Endpoint, specs: list[LoadSpec], args: argparse.Namespace) -> Any:
    await wait_ready(endpoint, specs, READY_TIMEOUT_S)
    if args.system_warmup > 0:
        # Just started: Kafka's and n8n's JITs compile their hot paths, Postgres fills its
        # caches. Without this the first points measure start-up, not the steady state.
        await run_point(endpoint.target(specs[0]), 16, args.system_warmup, 0.0)
    return await measure(endpoint, specs, args.duration, args.warmup)


def run_n8n(reaper: Reaper, args: argparse.Namespace, systems: dict[str, Any]) -> None:
    binary = install()
    n8n = N8n(binary, make_workdir(reaper, keep=args.keep))
    template = n8n.prepare_template()
    for saving in (True, False):
        name = "n8n-default" if saving else "n8n-nosave"
        try:
            n8n.start(template, saving, reaper)
            process = n8n.process
            assert process is not None
            endpoint = Endpoint(
                name,
                "127.0.0.1",
                n8n.port,
                {"w1": "/webhook/order", "w3": "/webhook/steps40", "w3-base": "/webhook/steps0"},
                roots=_fixed([process.pid]),
                notes={"version": version(binary), "executions_saved": saving},
            )
            systems[name] = run_fast(drive(endpoint, PEER_SPECS, args))
        except Exception as exc:
            log(f"{name} failed: {exc}")
            systems[name] = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            n8n.stop(reaper)


def scenarist_endpoint(scenarist: Scenarist, specs: list[LoadSpec]) -> Endpoint:
    for spec in specs:
        scenarist.apply(spec.key, SCENARIST_DOCUMENTS[spec.key])
    host_port = scenarist.http_url.rsplit("/", 1)[-1]
    host, port = host_port.rsplit(":", 1)
    return Endpoint(
        f"scenarist-{scenarist.mode}",
        host,
        int(port),
        dict(scenarist.hooks),
        roots=scenarist.roots,
        notes={"mode": scenarist.mode},
        database=scenarist.database,
    )


def run_scenarist(
    reaper: Reaper, mode: str, args: argparse.Namespace, systems: dict[str, Any]
) -> None:
    name = f"scenarist-{mode}"
    scope = Reaper()
    reaper.defer(name, scope.close)
    try:
        started = start_standalone(scope) if mode == "standalone" else start_distributed(scope)
        endpoint = scenarist_endpoint(started, SCENARIST_SPECS)
        systems[name] = run_fast(drive(endpoint, SCENARIST_SPECS, args))
    except Exception as exc:
        log(f"{name} failed: {exc}")
        systems[name] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        scope.close()
        reaper.forget(name)


def summarize(document: dict[str, Any]) -> None:
    systems = document["systems"]
    rows = []
    for ours in (s for s in systems if s.startswith("scenarist-")):
        for peer in ("n8n-default", "n8n-nosave"):
            rows += report.ratios(systems, ours, peer)
    document["ratios"] = rows
    document["workload3"] = {
        name: {w: report.step_overhead(system, w) for w in ("w3", "w3-inline")}
        for name, system in systems.items()
        if "error" not in system
    }
    print()
    report.print_systems(systems)
    report.print_ratios(rows)
    for name, figures in document["workload3"].items():
        print(f"w3 {name}: {figures}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.peers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per point")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds before each point")
    parser.add_argument(
        "--scenarist",
        default="standalone,distributed",
        help="comma list of modes (standalone, distributed) or 'none'",
    )
    parser.add_argument(
        "--system-warmup", type=float, default=15.0, help="seconds of load after each start"
    )
    parser.add_argument("--skip-n8n", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep n8n's scratch folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    with Reaper() as reaper:
        document: dict[str, Any] = {"meta": report.meta("make bench-peers")}
        document["meta"]["duration_s_per_point"] = args.duration
        document["meta"]["warmup_s_per_point"] = args.warmup
        document["generator_ceiling"] = measure_ceiling(reaper, 3.0)
        systems: dict[str, Any] = {}
        if not args.skip_n8n:
            try:
                run_n8n(reaper, args, systems)
            except Exception as exc:
                log(f"n8n failed: {exc}")
                systems["n8n"] = {"error": f"{type(exc).__name__}: {exc}"}
        for mode in [m for m in args.scenarist.split(",") if m and m != "none"]:
            run_scenarist(reaper, mode, args, systems)
        document["systems"] = systems
        summarize(document)
        document["meta"]["wall_s"] = round(time.monotonic() - started, 1)
        path = report.write("peers.json", document)
        print(f"\nwrote {path} in {document['meta']['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
