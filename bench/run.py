"""`make bench`: every workload of the bench issue against Scenarist, standalone and distributed.

    .venv/bin/python -m bench.run [--modes standalone,distributed] [--duration 10]

Workloads 1 and 3 (closed-loop HTTP at concurrency 1/16/64), 2 (async ingress, then drain),
4 (fan-out with 1/2/4/8 executors; distributed only), 5 (10 MB body) and 6 (Kafka's own perf
tools with our envelope size). Prints the tables, writes .bench/results.json, and adds
Scenarist/n8n ratios when .bench/peers.json (from `make bench-peers`) is there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import big, floors, kafka_perf, report
from bench.ceiling import measure_ceiling
from bench.loadgen import run_fast
from bench.peers import SCENARIST_SPECS, drive, scenarist_endpoint
from bench.procs import Reaper, log
from bench.scenarist_side import SCENARIOS, Scenarist, start_distributed, start_standalone
from bench.scenarist_workloads import async_ingress, fan_out

EXTRA_DOCUMENTS = {
    "w2": SCENARIOS / "w2-async.yaml",
    "w4": SCENARIOS / "w4-fanout.yaml",
    "w5": SCENARIOS / "w5-big.yaml",
}
TASKS_PER_W3_RUN = 40


def _attempt(results: dict[str, Any], key: str, action: Callable[[], Any]) -> None:
    """Run one workload; a failure is recorded with its reason and the rest still run."""
    try:
        results[key] = action()
    except Exception as exc:
        log(f"{key} failed: {exc}")
        results[key] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}


def run_mode(mode: str, args: argparse.Namespace, reaper: Reaper) -> dict[str, Any]:
    scope = Reaper()
    reaper.defer(mode, scope.close)
    try:
        scenarist: Scenarist = (
            start_standalone(scope) if mode == "standalone" else start_distributed(scope)
        )
        endpoint = scenarist_endpoint(scenarist, SCENARIST_SPECS)
        result: dict[str, Any] = run_fast(drive(endpoint, SCENARIST_SPECS, args))
        ids: dict[str, str] = {}
        for key, path in EXTRA_DOCUMENTS.items():
            _attempt(ids, key, lambda k=key, p=path: scenarist.apply(k, p))  # type: ignore[misc]
        extra: dict[str, Any] = {}
        if isinstance(ids.get("w2"), str):
            _attempt(extra, "w2", lambda: async_ingress(scenarist, ids["w2"], args.duration))
        if isinstance(ids.get("w5"), str):
            _attempt(extra, "w5", lambda: big.measure(scenarist))
        if mode == "distributed" and isinstance(ids.get("w4"), str):
            _attempt(extra, "w4", lambda: fan_out(scenarist, ids["w4"], scope))
            # The same with each executor bounded to 8 tasks at once: executors that wait on
            # I/O (their downstream's latency), the case horizontal scaling is for.
            _attempt(
                extra,
                "w4_concurrency_8",
                lambda: fan_out(
                    scenarist, ids["w4"], scope, executors=(1, 2, 4), concurrency=8, repeats=3
                ),
            )
        for key, value in ids.items():
            if isinstance(value, dict):
                extra[key] = value  # the scenario could not even be created
        result["extra_workloads"] = extra
        return result
    except Exception as exc:
        log(f"scenarist-{mode} failed: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:2000]}
    finally:
        scope.close()
        reaper.forget(mode)


def _with_peers(document: dict[str, Any]) -> None:
    try:
        peers = json.loads((report.OUT_DIR / "peers.json").read_text())
    except (OSError, ValueError):
        return
    systems = document["systems"] | {
        k: v for k, v in peers.get("systems", {}).items() if k.startswith("n8n")
    }
    rows = []
    for ours in document["systems"]:
        for peer in ("n8n-default", "n8n-nosave"):
            rows += report.ratios(systems, ours, peer)
    document["ratios_vs_n8n"] = rows
    document["n8n_from"] = peers.get("meta", {})


def _transport_fraction(document: dict[str, Any]) -> None:
    kafka = document.get("kafka_perf", {})
    produced = kafka.get("producer", {}).get("records_per_s")
    w3 = report.point(document["systems"].get("scenarist-distributed", {}), "w3", 16)
    if produced and w3:
        tasks = w3["runs_per_s"] * TASKS_PER_W3_RUN
        kafka["our_module_tasks_per_s"] = round(tasks, 1)
        kafka["fraction_of_producer_limit"] = round(tasks / produced, 4)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="standalone,distributed")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per point")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each point")
    parser.add_argument("--kafka-records", type=int, default=300_000)
    parser.add_argument("--skip-kafka", action="store_true")
    parser.add_argument(
        "--floor-duration", type=float, default=8.0, help="seconds per c=1 floor (bench.floors)"
    )
    parser.add_argument(
        "--system-warmup", type=float, default=15.0, help="seconds of load after each start"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    with Reaper() as reaper:
        document: dict[str, Any] = {"meta": report.meta("make bench")}
        document["meta"] |= {"duration_s_per_point": args.duration, "warmup_s": args.warmup}
        document["generator_ceiling"] = measure_ceiling(reaper, 3.0)
        systems = {}
        for mode in [m for m in args.modes.split(",") if m]:
            systems[f"scenarist-{mode}"] = run_mode(mode, args, reaper)
        document["systems"] = systems
        if not args.skip_kafka:
            _attempt(document, "kafka_perf", lambda: kafka_perf.measure(reaper, args.kafka_records))
        _transport_fraction(document)
        _attempt(document, "floors", lambda: floors.measure(reaper, args.floor_duration))
        _with_peers(document)
        if "error" not in document["floors"]:
            document["floors"] = floors.with_budgets(document["floors"])
        document["workload3"] = {
            name: {w: report.step_overhead(s, w) for w in ("w3", "w3-inline")}
            for name, s in systems.items()
            if "error" not in s
        }
        print()
        report.print_systems(systems)
        report.print_ratios(document.get("ratios_vs_n8n", []))
        if "error" not in document["floors"]:
            floors.print_table(document["floors"])
        for key in ("workload3", "kafka_perf"):
            print(f"{key}: {json.dumps(document.get(key), indent=1)}")
        for name, system in systems.items():
            extra = system.get("extra_workloads", {})
            report.print_fan_out(extra)
            others = {k: v for k, v in extra.items() if not k.startswith("w4")}
            print(f"{name} workloads 2/5: {json.dumps(others, indent=1, default=str)[:4000]}")
        document["meta"]["wall_s"] = round(time.monotonic() - started, 1)
        path = report.write("results.json", document)
        print(f"\nwrote {path} in {document['meta']['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
