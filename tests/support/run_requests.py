"""Sending a RunRequested the way the trigger does: on runs.requested, keyed by its run id."""

from __future__ import annotations

from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.port import Bus


async def send_run_request(bus: Bus, request: RunRequested) -> None:
    producer = await bus.producer()
    await producer.send(
        envelope.wrap(
            topics.RUNS_REQUESTED,
            request,
            event_type=envelope.RUN_REQUESTED,
            run_id=request.run_id,
            organization_id=request.organization_id,
            source="test",
        )
    )
