"""Real Kafka, Postgres and Redis from deploy/infra.sh, for the infra smoke tests.

Services already running (`make up`, another test session) are reused and left running; those
this session had to start are stopped again at the end. Ports, run dir and cache follow the same
SCENARIST_* environment variables as the scripts (see deploy/README.md). The tests talk to the
servers only through the real clients (psql, redis-cli, Kafka's own tool classes), so they need
no Python client libraries.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from infra_support import DEPLOY, INFRA, SERVICES, Infra, must, run


def _env() -> dict[str, str]:
    out = must(INFRA, "env", timeout=60)
    values: dict[str, str] = {}
    for line in out.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            values[key] = value
    return values


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    down_before = tuple(
        s for s in SERVICES if run(DEPLOY / s / f"{s}.sh", "status", timeout=60).returncode != 0
    )
    if down_before:
        # Cold Kafka start is ~10-30 s on 2 cores (plus a one-time jar fetch); bounded anyway.
        proc = run(INFRA, "up", *down_before, timeout=600)
        if proc.returncode != 0:
            run(INFRA, "down", *down_before, timeout=180)
            pytest.fail(f"`infra.sh up {' '.join(down_before)}` failed:\n{proc.stderr[-4000:]}")
    # Topics are idempotent: make sure they exist even on a reused broker.
    must(DEPLOY / "kafka" / "kafka.sh", "topics", timeout=120)
    env = _env()
    try:
        yield Infra(
            kafka_bootstrap=env["SCENARIST_KAFKA_BOOTSTRAP"],
            postgres_dsn=env["SCENARIST_POSTGRES_DSN"],
            redis_url=env["SCENARIST_REDIS_URL"],
            started=down_before,
        )
    finally:
        if down_before:
            proc = run(INFRA, "down", *down_before, timeout=180)
            assert proc.returncode == 0, proc.stderr
