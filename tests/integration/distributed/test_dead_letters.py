"""Poison on the run path: undecodable records on runs.requested (orchestrator) and tasks.module
(executors) land in the dead-letter topic with the reason headers, and the consumers go on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from distributed_support import SUCCESS, Api, Cluster, Tenant, fan_out, items_input, until
from scenarist_bus import topics
from scenarist_bus.dlq import H_ERROR_TYPE, H_ORIGINAL_OFFSET, H_ORIGINAL_TOPIC, H_REASON
from scenarist_bus.kafka import KafkaBus
from scenarist_bus.port import Consumer, OutgoingMessage, Record

pytestmark = pytest.mark.integration

POISONED = (topics.RUNS_REQUESTED, topics.TASKS_MODULE)


@pytest.fixture
async def bus(cluster: Cluster) -> AsyncIterator[KafkaBus]:
    kafka = KafkaBus(cluster.kafka_bootstrap, client_id="dlq-test")
    try:
        yield kafka
    finally:
        await kafka.close()


async def _collect(consumer: Consumer, found: dict[bytes, Record], keys: set[bytes]) -> int:
    for record in await consumer.getmany(500):
        if record.key in keys:
            found[record.key] = record
    return len(found)


async def test_poison_goes_to_the_dlq_with_its_reason_and_runs_go_on(
    cluster: Cluster, api: Api, acme: Tenant, bus: KafkaBus
) -> None:
    marker = uuid.uuid4().hex
    keys = {f"{marker}-{topic}".encode(): topic for topic in POISONED}
    producer = await bus.producer()
    await producer.send_batch(
        [OutgoingMessage(topic, b"\x00not an envelope " + key, key) for key, topic in keys.items()]
    )

    consumer = bus.consumer(f"dlq-test-{marker}", (topics.DLQ,))  # a new group reads from 0
    await consumer.start()
    try:
        found: dict[bytes, Record] = {}
        await until(
            lambda: _collect(consumer, found, set(keys)),
            lambda count: count == len(keys),
            timeout=60,
            what="both poison records in the DLQ",
        )
    finally:
        await consumer.stop()
    for key, topic in keys.items():
        headers = dict(found[key].headers)
        assert headers[H_ORIGINAL_TOPIC] == topic.encode()
        assert headers[H_ORIGINAL_OFFSET].isdigit()
        assert headers[H_REASON] and headers[H_ERROR_TYPE] == b"invalid_message"
        assert found[key].value == b"\x00not an envelope " + key

    dead = await cluster.counter(
        "orchestrator", "scenarist_dlq_messages_total", topic=topics.RUNS_REQUESTED
    )
    executors = [
        await cluster.counter(name, "scenarist_dlq_messages_total", topic=topics.TASKS_MODULE)
        for name in ("executor-1", "executor-2")
    ]
    assert dead >= 1 and sum(executors) >= 1

    # Both consumer groups are still alive and working: a run with executor tasks completes.
    scenario_id = await api.create_scenario(acme, fan_out(3, 0, 3), activate=True)
    run_id = await api.start_run(acme, scenario_id, items_input(3))
    [run] = await api.finished_runs(acme, [run_id], timeout=60)
    assert run.status == SUCCESS
