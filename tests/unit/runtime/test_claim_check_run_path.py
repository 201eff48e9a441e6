"""Bodies above the claim-check threshold travel by reference through the whole run path:
trigger → orchestrator → executor → orchestrator → step logs (in-process bus and stores)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import ModuleTask, RunRequested, TaskResult
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_executor.loop import ExecutorLoop
from scenarist_executor.worker import TaskWorker
from scenarist_log.claimed import resolve_steps
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_runtime.claim_check import ClaimChecks, from_message
from scenarist_storage.memory.claims import MemoryClaimStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from support.run_requests import send_run_request
from support.step_logs import steps_in

THRESHOLD = 2048
BIG: dict[str, Any] = {
    "name": "big bundles",
    "settings": {"parallel_bundles": 4},
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.items}}"}},
        # A task module whose mapper reads the trigger: its task carries that bundle (above the
        # limit). Tasks only carry the bundles their mapper refers to.
        {
            "id": 3,
            "module": "util:FunctionSleep",
            "mapper": {"duration": "{{length(1.items) * 0}}"},
        },
        {
            "id": 4,
            "module": "builtin:BasicAggregator",
            "parameters": {"feeder": 2},
            "mapper": {"v": "{{2.value}}"},
        },
        {
            "id": 5,
            "module": "gateway:WebhookRespond",
            "mapper": {"status": "200", "body": "{{length(4.array)}}"},
        },
    ],
}


async def _records(bus: LocalBus, topic: str) -> list[Any]:
    consumer = bus.consumer(f"test-{uuid.uuid4()}", (topic,))
    await consumer.start()
    return [envelope.unwrap(r).payload for r in await consumer.getmany(100, 10_000)]


async def test_a_big_trigger_runs_by_reference_and_its_logs_resolve() -> None:
    bus, runs, scenarios = LocalBus(), MemoryRunStore(), MemoryScenarioStore()
    claims = ClaimChecks(MemoryClaimStore(), threshold=THRESHOLD)
    processor = RunProcessor(runs, PlanCache(scenarios), claims=claims)
    orchestrator = OrchestratorLoop(bus, runs, processor, poll_ms=1)
    executor = ExecutorLoop(bus, TaskWorker(claims=claims), poll_ms=1)
    await bus.create_topics(topics.ALL_TOPICS)
    await orchestrator.start()
    await executor.start()
    org = uuid.uuid4()
    scenario = await scenarios.create(org, "big", BIG)
    items = ["x" * 500 + str(n) for n in range(8)]
    body = orjson.dumps({"items": items})
    check = await claims.offload(body)
    assert check is not None
    run_id = str(uuid.uuid4())
    request = RunRequested(
        run_id=run_id, organization_id=str(org), scenario_id=str(scenario.id), source=1
    )
    request.trigger_claim_check.CopyFrom(check)
    await send_run_request(bus, request)
    for _ in range(300):
        await orchestrator.run_once()
        await executor.run_once()
        record = await runs.get(org, uuid.UUID(run_id))
        if record is not None and record.status != "running" and record.status != "queued":
            break
    assert record is not None and record.status == "success"
    assert record.state.get("response", {}).get("body") in (8, "8")
    # The run keeps the trigger's reference, not a second copy of the body.
    assert record.trigger == {} and record.trigger_claim == from_message(check)

    tasks = [t for t in await _records(bus, topics.TASKS_MODULE) if isinstance(t, ModuleTask)]
    assert len(tasks) == 8
    assert all(t.HasField("claim_check") and not t.task for t in tasks)
    results = [r for r in await _records(bus, topics.TASKS_RESULTS) if isinstance(r, TaskResult)]
    assert len(results) == 8 and all(r.result for r in results)  # small: inline

    steps = steps_in(await _records(bus, topics.LOGS_STEPS))
    claimed = [s for s in steps if s.HasField("input_claim_check")]
    assert claimed, "the task steps' inputs are above the threshold"
    await resolve_steps(claimed, claims)
    assert not any(s.HasField("input_claim_check") for s in claimed)
    assert all(s.input for s in claimed)


async def test_small_bodies_stay_inline() -> None:
    claims = ClaimChecks(MemoryClaimStore(), threshold=THRESHOLD)
    assert await claims.offload(b"{}") is None
    assert await claims.resolve(b"inline", None) == b"inline"
