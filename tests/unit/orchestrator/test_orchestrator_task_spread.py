"""A run's module tasks go out without a key, so the bus deals them round robin and a fan-out
splits evenly over the tasks.module partitions, hence over the executors that own them. Hashing
a key per task dealt them at random, and the run waited for the executor that drew the most."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import Record
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from support.run_requests import send_run_request

PARTITIONS = topics.PARTITIONS[topics.TASKS_MODULE]
ITEMS = PARTITIONS * 10


def _fan_out() -> dict[str, Any]:
    return {
        "name": "fan-out",
        "settings": {"parallel_bundles": ITEMS},
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
            {"id": 3, "module": "util:FunctionSleep", "mapper": {"duration": 0}},
        ],
    }


async def _started() -> tuple[LocalBus, list[Record]]:
    """Start one run of the fan-out and return the module tasks it put on the bus."""
    bus, scenarios, runs = LocalBus(), MemoryScenarioStore(), MemoryRunStore()
    await bus.create_topics(topics.ALL_TOPICS)
    orchestrator = OrchestratorLoop(bus, runs, RunProcessor(runs, PlanCache(scenarios)), poll_ms=1)
    await orchestrator.start()
    org = uuid.uuid4()
    scenario = await scenarios.create(org, "fan-out", _fan_out())
    request = RunRequested(
        run_id=str(uuid.uuid4()),
        organization_id=str(org),
        scenario_id=str(scenario.id),
        trigger=orjson.dumps({"items": list(range(ITEMS))}).decode(),
    )
    await send_run_request(bus, request)
    await orchestrator.run_once()
    consumer = bus.consumer(f"reader-{uuid.uuid4()}", (topics.TASKS_MODULE,))
    await consumer.start()
    tasks = await consumer.getmany(100, 10 * ITEMS)
    await orchestrator.stop()
    return bus, tasks


async def test_a_fan_out_deals_its_tasks_evenly_over_the_partitions() -> None:
    bus, tasks = await _started()
    assert len(tasks) == ITEMS
    assert all(task.key is None for task in tasks)
    per_partition = Counter(task.partition for task in tasks)
    assert per_partition == dict.fromkeys(range(PARTITIONS), ITEMS // PARTITIONS)
    # The tasks are whole: each decodes to its own task of the run.
    decoded = [envelope.unwrap(task).payload for task in tasks]
    assert len({task.task_id for task in decoded}) == ITEMS
    assert {task.run_id for task in decoded} == {decoded[0].run_id}
    await bus.close()
