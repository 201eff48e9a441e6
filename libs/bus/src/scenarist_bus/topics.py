"""Every Kafka topic Scenarist uses, with its partition count: the one place they are defined.

Partition counts cap consumer parallelism (A.6: size for the replica count we want to reach, not
for today's load) and may grow but never shrink; growing moves keys to other partitions, so do it
while the affected consumers are drained.

    python -m scenarist_bus.topics create --bootstrap 127.0.0.1:19092 [--replication 1]
    python -m scenarist_bus.topics list        # "name partitions" lines, for scripts
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from scenarist_bus.port import TopicSpec

RUNS_REQUESTED = "scenarist.runs.requested"  # trigger -> orchestrator, keyed by run_id
TASKS_MODULE = "scenarist.tasks.module"  # orchestrator -> executors, one module task each
TASKS_RESULTS = "scenarist.tasks.results"  # executors -> orchestrator, keyed by run_id
RUNS_EVENTS = "scenarist.runs.events"  # orchestrator -> log, run lifecycle
LOGS_STEPS = "scenarist.logs.steps"  # executors -> log, per-module step records
DLQ = "scenarist.dlq"  # undecodable / poison records from any consumer

ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(RUNS_REQUESTED, 12),
    # Executors are the horizontally scaled group: the most partitions.
    TopicSpec(TASKS_MODULE, 24),
    TopicSpec(TASKS_RESULTS, 12),
    TopicSpec(RUNS_EVENTS, 12),
    TopicSpec(LOGS_STEPS, 12),
    TopicSpec(DLQ, 3),
)

PARTITIONS: dict[str, int] = {spec.name: spec.partitions for spec in ALL_TOPICS}


def spec(name: str) -> TopicSpec:
    for candidate in ALL_TOPICS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown topic {name!r}")


async def _create(bootstrap: str, replication: int) -> None:
    # Imported here so `list` works without touching aiokafka.
    from scenarist_bus.kafka import KafkaBus  # noqa: PLC0415

    bus = KafkaBus(bootstrap, replication_factor=replication)
    try:
        await bus.create_topics(ALL_TOPICS)
        described = await bus.describe_topics([s.name for s in ALL_TOPICS])
    finally:
        await bus.close()
    for name, partitions in sorted(described.items()):
        print(f"{name} {partitions}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarist_bus.topics")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create/grow every topic (idempotent)")
    create.add_argument(
        "--bootstrap",
        default=os.environ.get("SCENARIST_KAFKA_BOOTSTRAP"),
        help="HOST:PORT (default: $SCENARIST_KAFKA_BOOTSTRAP)",
    )
    create.add_argument(
        "--replication",
        type=int,
        default=int(os.environ.get("SCENARIST_KAFKA_REPLICATION", "1")),
        help="replication factor for new topics (default: $SCENARIST_KAFKA_REPLICATION or 1)",
    )
    sub.add_parser("list", help="print 'name partitions' per topic")
    args = parser.parse_args(argv)
    if args.command == "list":
        for topic in ALL_TOPICS:
            print(f"{topic.name} {topic.partitions}")
        return 0
    if not args.bootstrap:
        parser.error("--bootstrap or SCENARIST_KAFKA_BOOTSTRAP is required")
    try:
        asyncio.run(_create(str(args.bootstrap), int(args.replication)))
    except Exception as exc:  # a CLI for scripts: one clear line, non-zero exit
        print(f"topics: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
