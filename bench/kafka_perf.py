"""Workload 6, the transport limit: Kafka's own producer and consumer perf tools, from the
pinned Kafka the project runs, with records the size of a real module-task envelope.

`python -m bench.kafka_perf [--records 300000]` (Kafka is started if it is not running, and
stopped again if it was started here). The topic is created for the run and deleted after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from scenarist_engine.machine import start_run
from scenarist_engine.machine.plan import Plan
from scenarist_engine.model.loading import load_scenario_file
from scenarist_orchestrator.messages import task_message

from bench.procs import Reaper, log, run_checked
from bench.scenarist_side import REPO, SCENARIOS, ensure_infra, infra_env

KAFKA = REPO / "deploy" / "kafka" / "kafka.sh"
PARTITIONS = 24  # as scenarist.tasks.module
PAYLOAD_W1 = REPO / "bench" / "payload-w1.json"


def envelope_sizes() -> dict[str, int]:
    """Bytes of real `tasks.module` records: value (the Envelope) and key, built the way the
    orchestrator builds them, for a 40-step task chain triggered with workload 1's body."""
    plan = Plan.build(load_scenario_file(SCENARIOS / "w3-steps40-tasks.yaml"))
    trigger = orjson.loads(PAYLOAD_W1.read_bytes())
    _, tasks = start_run(plan, run_id=str(uuid.uuid4()), now=time.time(), trigger=[[trigger]])
    message = task_message(tasks[0], str(uuid.uuid4()), str(uuid.uuid4()))
    return {"value_bytes": len(message.value), "key_bytes": len(message.key or b"")}


_PRODUCER = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th"
)


def producer(bootstrap: str, topic: str, records: int, size: int) -> dict[str, Any]:
    out = run_checked(
        [
            str(KAFKA), "run-class", "org.apache.kafka.tools.ProducerPerformance",
            "--topic", topic, "--num-records", str(records), "--record-size", str(size),
            "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}",
            "acks=all", "linger.ms=5", "batch.size=262144", "compression.type=none",
        ],
        timeout_s=300.0,
    )  # fmt: skip
    found = [m for m in _PRODUCER.finditer(out)]
    if not found:
        raise RuntimeError(f"ProducerPerformance printed no summary: {out[-500:]}")
    last = found[-1]
    return {
        "records": int(last["records"]),
        "records_per_s": float(last["rps"]),
        "mb_per_s": float(last["mbps"]),
        "latency_avg_ms": float(last["avg"]),
        "latency_p50_ms": int(last["p50"]),
        "latency_p99_ms": int(last["p99"]),
        "acks": "all",
    }


def consumer(bootstrap: str, topic: str, records: int) -> dict[str, Any]:
    out = run_checked(
        [
            str(KAFKA), "run-class", "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(records),
            "--timeout", "60000", "--group", f"bench-perf-{os.getpid()}",
        ],
        timeout_s=300.0,
    )  # fmt: skip
    lines = [line for line in out.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("start.time"))
    names = [n.strip() for n in lines[header].split(",")]
    values = [v.strip() for v in lines[header + 1].split(",")]
    row = dict(zip(names, values, strict=False))
    return {
        "records": int(row["data.consumed.in.nMsg"]),
        "records_per_s": float(row["nMsg.sec"]),
        "mb_per_s": float(row["MB.sec"]),
    }


def _topic_command(bootstrap: str, *args: str) -> None:
    run_checked(
        [str(KAFKA), "run-class", "org.apache.kafka.tools.TopicCommand",
         "--bootstrap-server", bootstrap, *args],
        timeout_s=120.0,
    )  # fmt: skip


def measure(reaper: Reaper, records: int) -> dict[str, Any]:
    ensure_infra("kafka", reaper)
    bootstrap = infra_env().get("SCENARIST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    sizes = envelope_sizes()
    record_size = sizes["value_bytes"]
    topic = f"bench.perf.{os.getpid()}"
    with tempfile.NamedTemporaryFile("w", suffix=".topics", delete=False) as listing:
        listing.write(f"{topic} {PARTITIONS}\n")
    try:
        run_checked([str(KAFKA), "topics", listing.name], timeout_s=120.0)
    finally:
        Path(listing.name).unlink(missing_ok=True)
    reaper.defer("perf topic", lambda: _topic_command(bootstrap, "--delete", "--topic", topic))
    log(f"kafka perf: {records} records of {record_size} B (a module-task envelope) on {topic}")
    produced = producer(bootstrap, topic, records, record_size)
    consumed = consumer(bootstrap, topic, records)
    log(
        f"kafka perf: produce {produced['records_per_s']:,.0f} rec/s "
        f"({produced['mb_per_s']} MB/s, p99 {produced['latency_p99_ms']} ms), "
        f"consume {consumed['records_per_s']:,.0f} rec/s"
    )
    return {
        "envelope": sizes,
        "record_size_bytes": record_size,
        "partitions": PARTITIONS,
        "producer": produced,
        "consumer": consumed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.kafka_perf")
    parser.add_argument("--records", type=int, default=300_000)
    args = parser.parse_args()
    with Reaper() as reaper:
        print(json.dumps(measure(reaper, args.records), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
