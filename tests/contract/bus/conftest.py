"""Fixtures for the bus contract suite: one fresh bus per test, LocalBus and KafkaBus.

Kafka comes from `kafka_bootstrap` in tests/conftest.py: $SCENARIST_KAFKA_BOOTSTRAP, or the
address `deploy/infra.sh env` prints, started there (and stopped again at the end) if nothing
listens. If it cannot be reached, the kafka tests fail with the reason: they are never skipped
silently.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from scenarist_bus.kafka import KafkaBus
from scenarist_bus.local import LocalBus
from scenarist_bus.port import Bus, TopicSpec

NewTopic = Callable[[int], Awaitable[str]]


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
