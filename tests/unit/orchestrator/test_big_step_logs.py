"""Workload 5's shape: a big trigger mapped through inline modules. Its step logs go by claim
check (stored one body at a time) and still resolve to every byte of the module's data."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from google.protobuf.message import Message
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_log.claimed import resolve_steps
from scenarist_orchestrator.loop import OrchestratorLoop
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.memory.claims import MemoryClaimStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore
from support.run_requests import send_run_request
from support.step_logs import steps_in

THRESHOLD = 2048
SCENARIO: dict[str, Any] = {
    "name": "w5",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook"},
        {
            "id": 2,
            "module": "util:SetVariable2",
            "mapper": {"name": "records", "value": "{{1.records}}"},
        },
        {
            "id": 3,
            "module": "util:SetVariables",
            "mapper": {"variables": [{"name": "count", "value": "{{length(2.records)}}"}]},
        },
    ],
}


async def _step_payloads(bus: LocalBus) -> list[Message]:
    consumer = bus.consumer(f"test-{uuid.uuid4()}", (topics.LOGS_STEPS,))
    await consumer.start()
    return [envelope.unwrap(r).payload for r in await consumer.getmany(100, 10_000)]


async def test_big_step_bodies_are_stored_and_resolve_in_order() -> None:
    bus, runs, scenarios = LocalBus(), MemoryRunStore(), MemoryScenarioStore()
    claims = ClaimChecks(MemoryClaimStore(), threshold=THRESHOLD)
    processor = RunProcessor(runs, PlanCache(scenarios), claims=claims)
    orchestrator = OrchestratorLoop(bus, runs, processor, poll_ms=1)
    await bus.create_topics(topics.ALL_TOPICS)
    await orchestrator.start()
    org = uuid.uuid4()
    scenario = await scenarios.create(org, "w5", SCENARIO)
    records = [{"sku": f"sku-{n}", "note": "x" * 40} for n in range(200)]
    run_id = str(uuid.uuid4())
    request = RunRequested(
        run_id=run_id, organization_id=str(org), scenario_id=str(scenario.id), source=1
    )
    check = await claims.offload(orjson.dumps({"records": records}))
    assert check is not None
    request.trigger_claim_check.CopyFrom(check)
    await send_run_request(bus, request)
    for _ in range(100):
        await orchestrator.run_once()
        record = await runs.get(org, uuid.UUID(run_id))
        if record is not None and record.status == "success":
            break
    assert record is not None and record.status == "success"

    payloads = await _step_payloads(bus)
    assert len(payloads) == 1  # the one save's three steps travel in one message
    steps = steps_in(payloads)
    assert [s.module_id for s in steps] == [1, 2, 3]  # the outbox keeps the machine's order
    assert steps[0].HasField("output_claim_check") and steps[1].HasField("input_claim_check")
    assert steps[1].HasField("output_claim_check") and not steps[2].HasField("input_claim_check")
    await resolve_steps(steps, claims)
    assert orjson.loads(steps[0].output) == [{"records": records}]
    assert orjson.loads(steps[1].input) == {"name": "records", "value": records}
    assert orjson.loads(steps[1].output) == [{"records": records}]
    assert orjson.loads(steps[2].output) == [{"count": 200}]
