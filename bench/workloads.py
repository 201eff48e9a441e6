"""The HTTP workloads both systems get, and the closed-loop measurement of one system.

A system is an `Endpoint`: where its webhooks listen, the path of each workload, and the root
pids whose process trees are metered (CPU cores used, peak RSS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.loadgen import ResponseCheck, Target, run_point, wait_until_answering
from bench.procs import log
from bench.procstat import TreeMeter, peak_rss_by_name, process_tree

HERE = Path(__file__).resolve().parent
PAYLOAD_W1 = (HERE / "payload-w1.json").read_bytes().strip()


def _json_field(name: str, expected: Any) -> ResponseCheck:
    def check(status: int, body: bytes) -> bool:
        if status != 200:
            return False
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        # n8n answers an object; accept a one-item list too, as some responders wrap it.
        if isinstance(document, list) and len(document) == 1:
            document = document[0]
        if not isinstance(document, dict):
            return False
        # n8n's empty chain answers with the webhook item itself, where the field is in `body`.
        inner = document.get("body")
        nested = inner.get(name) if isinstance(inner, dict) else None
        return bool(document.get(name, nested) == expected)

    return check


@dataclass(frozen=True)
class LoadSpec:
    key: str
    title: str
    body: bytes
    check: ResponseCheck
    concurrencies: tuple[int, ...]


W1 = LoadSpec("w1", "3-step webhook scenario", PAYLOAD_W1, _json_field("total_qty", 3), (1, 16, 64))
W3_TASKS = LoadSpec(
    "w3", "40 sequential light modules", b'{"step": 0}', _json_field("step", 40), (1, 16)
)
W3_INLINE = LoadSpec(
    "w3-inline",
    "40 sequential light modules, run inline by the state machine",
    b'{"step": 0}',
    _json_field("step", 40),
    (1, 16),
)
W3_BASE = LoadSpec(
    "w3-base", "webhook -> response only", b'{"step": 0}', _json_field("step", 0), (1,)
)


@dataclass
class Endpoint:
    system: str
    host: str
    port: int
    paths: dict[str, str]
    roots: Callable[[], list[int]]
    notes: dict[str, Any] = field(default_factory=dict)
    database: str | None = None  # Postgres backends of other databases are not ours

    def target(self, spec: LoadSpec) -> Target:
        return Target(self.host, self.port, self.paths[spec.key], spec.body, spec.check)


async def wait_ready(endpoint: Endpoint, specs: list[LoadSpec], timeout_s: float) -> None:
    for spec in specs:
        if spec.key in endpoint.paths:
            await wait_until_answering(endpoint.target(spec), timeout_s)


async def measure(
    endpoint: Endpoint, specs: list[LoadSpec], duration_s: float, warmup_s: float
) -> dict[str, Any]:
    """Every (workload, concurrency) point of one system, then its processes' peak RSS."""
    workloads: dict[str, Any] = {}
    for spec in specs:
        if spec.key not in endpoint.paths:
            continue
        points = {}
        for concurrency in spec.concurrencies:
            meter = TreeMeter(endpoint.roots(), endpoint.database)
            point = await run_point(
                endpoint.target(spec), concurrency, duration_s, warmup_s, meter=meter
            )
            # Others' work on a shared box shows up here; it explains outliers.
            summary = point.summary() | {"loadavg_1m": round(os.getloadavg()[0], 2)}
            points[f"c{concurrency}"] = summary
            log(
                f"{endpoint.system} {spec.key} c={concurrency}: {summary['runs_per_s']} runs/s, "
                f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, errors "
                f"{summary['errors']}, cores: system {summary['sut_cpu_cores']}, "
                f"generator {summary['loadgen_cpu_cores']}"
                + (f" — first error: {summary['first_error']}" if summary["errors"] else "")
            )
        workloads[spec.key] = {"title": spec.title, "points": points}
    rss = peak_rss_by_name(process_tree(endpoint.roots(), endpoint.database))
    return {
        "workloads": workloads,
        "peak_rss_bytes": sum(rss.values()),
        "peak_rss_by_process": rss,
        **endpoint.notes,
    }
