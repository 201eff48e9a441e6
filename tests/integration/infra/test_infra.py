"""Smoke tests of the local infrastructure that deploy/infra.sh starts: each server answers its
real client, and Kafka's topics carry the partition counts of scenarist_bus.topics."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from infra_support import DEPLOY, Infra, must, run
from scenarist_bus import topics

pytestmark = pytest.mark.integration

KAFKA = DEPLOY / "kafka" / "kafka.sh"


def _topic_definitions() -> dict[str, int]:
    return dict(topics.PARTITIONS)


def _psql() -> str:
    bin_dir = must(DEPLOY / "postgres" / "postgres.sh", "bin-dir", timeout=300).strip()
    candidate = Path(bin_dir) / "psql"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("psql")
    if found is None:
        pytest.fail(f"no psql in {bin_dir} nor on PATH")
    return found


def test_postgres_answers_a_query(infra: Infra) -> None:
    dsn = urlsplit(infra.postgres_dsn)
    assert dsn.hostname == "127.0.0.1"
    out = must(
        _psql(),
        "-XAtq",
        infra.postgres_dsn,
        "-c",
        "select 1, current_user, current_database(), inet_server_addr()",
        timeout=30,
    )
    assert out.strip() == "1|scenarist|scenarist|127.0.0.1"


def test_postgres_rejects_a_wrong_password(infra: Infra) -> None:
    dsn = urlsplit(infra.postgres_dsn)
    wrong = infra.postgres_dsn.replace(f":{dsn.password}@", ":not-the-password@")
    proc = run(_psql(), "-XAtq", wrong, "-c", "select 1", timeout=30)
    assert proc.returncode != 0
    assert "password authentication failed" in proc.stderr


def test_redis_set_get(infra: Infra) -> None:
    url = urlsplit(infra.redis_url)
    assert url.hostname == "127.0.0.1"
    cli = ["redis-cli", "-h", str(url.hostname), "-p", str(url.port)]
    key = f"scenarist:test:{uuid.uuid4().hex}"
    assert must(*cli, "set", key, "bundle-1", "EX", "60", timeout=15).strip() == "OK"
    assert must(*cli, "get", key, timeout=15).strip() == "bundle-1"
    assert must(*cli, "del", key, timeout=15).strip() == "1"


def test_kafka_topics_have_the_defined_partition_counts(infra: Infra) -> None:
    defined = _topic_definitions()
    assert defined == {
        "scenarist.runs.requested": 12,
        "scenarist.tasks.module": 24,
        "scenarist.tasks.results": 12,
        "scenarist.runs.events": 12,
        "scenarist.logs.steps": 12,
        "scenarist.dlq": 3,
    }
    described: dict[str, int] = {}
    for line in must(KAFKA, "describe", *defined, timeout=120).splitlines():
        name, partitions, _replication = line.split()
        described[name] = int(partitions)
    assert described == defined


def test_kafka_produce_then_consume_one_message(infra: Infra, tmp_path: Path) -> None:
    topic = f"scenarist.test.smoke-{uuid.uuid4().hex[:12]}"
    definition = tmp_path / "topics.txt"
    definition.write_text(f"{topic} 3\n")
    env_port = os.environ.get("SCENARIST_KAFKA_PORT")
    assert infra.kafka_bootstrap.endswith(f":{env_port or '19092'}")
    must(KAFKA, "topics", definition, timeout=120)
    try:
        payload = f"hello-{uuid.uuid4().hex}"
        must(
            KAFKA,
            "run-class",
            "org.apache.kafka.tools.ConsoleProducer",
            "--bootstrap-server",
            infra.kafka_bootstrap,
            "--topic",
            topic,
            "--reader-property",
            "parse.key=true",
            "--reader-property",
            "key.separator=|",
            "--command-property",
            "acks=all",
            stdin=f"run-1|{payload}\n",
            timeout=120,
        )
        started = time.monotonic()
        out = must(
            KAFKA,
            "run-class",
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            infra.kafka_bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            "1",
            "--timeout-ms",
            "60000",
            "--formatter-property",
            "print.key=true",
            "--formatter-property",
            "key.separator=|",
            timeout=120,
        )
        assert out.strip() == f"run-1|{payload}", out
        assert time.monotonic() - started < 60
    finally:
        run(
            KAFKA,
            "run-class",
            "org.apache.kafka.tools.TopicCommand",
            "--bootstrap-server",
            infra.kafka_bootstrap,
            "--delete",
            "--topic",
            topic,
            timeout=120,
        )
