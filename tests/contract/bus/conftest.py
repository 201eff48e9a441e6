"""Fixtures for the bus contract suite: one fresh bus per test, LocalBus and KafkaBus.

Kafka comes from $SCENARIST_KAFKA_BOOTSTRAP, or the address `deploy/infra.sh env` prints; if
nothing listens there it is started with `deploy/infra.sh up kafka` (and stopped again at the end,
since this session started it). If it cannot be reached, the kafka
tests fail with the reason: they are never skipped silently.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from scenarist_bus.kafka import KafkaBus
from scenarist_bus.local import LocalBus
from scenarist_bus.port import Bus, TopicSpec

REPO = Path(__file__).resolve().parents[3]
INFRA = REPO / "deploy" / "infra.sh"

NewTopic = Callable[[int], Awaitable[str]]


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def _bootstrap_from_env_script() -> str:
    out = _run(str(INFRA), "env", timeout=60)
    for line in out.stdout.splitlines():
        words = shlex.split(line)
        if (
            len(words) == 2
            and words[0] == "export"
            and words[1].startswith("SCENARIST_KAFKA_BOOTSTRAP=")
        ):
            return words[1].split("=", 1)[1]
    pytest.fail(f"`{INFRA} env` printed no SCENARIST_KAFKA_BOOTSTRAP:\n{out.stdout}{out.stderr}")


def _accepts_connections(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    from_env = os.environ.get("SCENARIST_KAFKA_BOOTSTRAP")
    if from_env:
        yield from_env
        return
    if not INFRA.exists():
        pytest.fail(
            "Kafka contract tests need a broker: set SCENARIST_KAFKA_BOOTSTRAP=HOST:PORT "
            f"or provide {INFRA} (deploy scripts), or deselect with -m 'not integration'"
        )
    bootstrap = _bootstrap_from_env_script()
    # A broker already listening (make test / make up started it) is reused and left running;
    # the JVM-based `status` check is too slow to ask on a loaded 2-core machine.
    started_here = not _accepts_connections(bootstrap)
    if started_here:
        up = _run(str(INFRA), "up", "kafka", timeout=600)
        if up.returncode != 0:
            pytest.fail(f"`{INFRA} up kafka` failed ({up.returncode}):\n{up.stderr[-4000:]}")
    yield bootstrap
    if started_here:
        _run(str(INFRA), "down", "kafka", timeout=120)


@pytest.fixture(params=["local", pytest.param("kafka", marks=pytest.mark.integration)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    impl: Bus
    if request.param == "local":
        impl = LocalBus()
    else:
        impl = KafkaBus(request.getfixturevalue("kafka_bootstrap"), client_id="contract")
    try:
        yield impl
    finally:
        await impl.close()


@pytest.fixture
async def new_topic(bus: Bus) -> AsyncIterator[NewTopic]:
    """Creates a topic unique to this test, so tests on the shared broker never interfere."""
    created: list[str] = []

    async def make(partitions: int) -> str:
        name = f"contract.{uuid.uuid4().hex[:12]}"
        await bus.create_topics([TopicSpec(name, partitions)])
        created.append(name)
        return name

    yield make
    if isinstance(bus, KafkaBus) and created:
        await bus.delete_topics(created)


@pytest.fixture
def group_id() -> str:
    return f"contract-group-{uuid.uuid4().hex[:12]}"
