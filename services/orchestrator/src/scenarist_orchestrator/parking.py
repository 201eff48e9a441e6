"""Runs requested while their scenario is inactive wait in the scenario's queue (Make: "If the
scenario is not active, the data is stored in the queue. Once you activate the scenario, all
bundles waiting in the queue will be processed").

- Webhook and polling runs are parked: the run row stays "queued" without state, the exact
  RunRequested is kept in `parked_runs`, and a QUEUED run event tells a waiting webhook caller
  (202 at once instead of waiting for a response that cannot come).
- A full queue (the per-scenario limit) refuses the run: it is stored "cancelled" and a
  CANCELLED event with error type QueueFullError reaches the caller (the trigger answers 400
  "Queue is full", as Make does).
- Scheduled runs of an inactive scenario are dropped before a run is created: an inactive
  scenario does not run on its schedule in Make, and queueing every tick would flood it.
- Manual, API and scenario-started runs run whatever the state, like Make's "Run once".

ActivateScenario releases the queue (`release_parked`): each parked request is published again on
runs.requested, oldest first, with its original run id; the processor starts it like a
redelivered request. See docs/adr/0004-queue-while-inactive.md.
"""

from __future__ import annotations

import logging
import time
import uuid

from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType, RunRequested
from scenarist.run.v1.run_pb2 import (
    TRIGGER_SOURCE_POLL,
    TRIGGER_SOURCE_SCHEDULE,
    TRIGGER_SOURCE_WEBHOOK,
    RunStatus,
)
from scenarist_bus import envelope, topics
from scenarist_bus.port import Producer
from scenarist_storage.models import RUN_STATUS_QUEUED, OutboxMessage, StateWrite
from scenarist_storage.ports import ParkedRunStore

log = logging.getLogger(__name__)

PARKED_SOURCES = frozenset({TRIGGER_SOURCE_WEBHOOK, TRIGGER_SOURCE_POLL})
DROPPED_SOURCES = frozenset({TRIGGER_SOURCE_SCHEDULE})
QUEUE_FULL = "QueueFullError"
CANCELLED = "cancelled"
DEFAULT_QUEUE_LIMIT = 1000
RELEASE_BATCH = 100


def _event(
    request: RunRequested,
    kind: RunEventType.ValueType,
    status: RunStatus.ValueType,
    error: Error | None = None,
) -> OutboxMessage:
    payload = RunEvent(
        run_id=request.run_id,
        organization_id=request.organization_id,
        scenario_id=request.scenario_id,
        type=kind,
        status=status,
        reply_to=request.reply_to,
    )
    payload.occurred_at.FromNanoseconds(time.time_ns())
    if error is not None:
        payload.error.CopyFrom(error)
    message = envelope.wrap(
        topics.RUNS_EVENTS,
        payload,
        event_type=envelope.RUN_EVENT,
        run_id=request.run_id,
        organization_id=request.organization_id,
        source="orchestrator",
    )
    return OutboxMessage(
        topic=message.topic,
        key=message.key,
        value=message.value,
        headers=message.headers,
        run_id=uuid.UUID(request.run_id),
    )


class Parking:
    def __init__(self, store: ParkedRunStore, limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self._store = store
        self._limit = limit

    async def park(self, request: RunRequested, epoch: int) -> tuple[StateWrite, OutboxMessage]:
        """The run's write and event: parked (queued), or refused because the queue is full."""
        org_id, run_id = uuid.UUID(request.organization_id), uuid.UUID(request.run_id)
        scenario_id = uuid.UUID(request.scenario_id)
        parked = await self._store.park(
            org_id, scenario_id, run_id, request.SerializeToString(), limit=self._limit
        )
        if parked:
            write = StateWrite(org_id, run_id, epoch, {}, RUN_STATUS_QUEUED, 0)
            event = _event(request, RunEventType.RUN_EVENT_TYPE_QUEUED, RunStatus.RUN_STATUS_QUEUED)
            return write, event
        log.warning("scenario queue full; run refused", extra={"run_id": request.run_id})
        error = Error(
            type=QUEUE_FULL,
            message=f"the inactive scenario's queue holds {self._limit} requests already",
        )
        write = StateWrite(org_id, run_id, epoch, {}, CANCELLED, 0)
        event = _event(
            request, RunEventType.RUN_EVENT_TYPE_CANCELLED, RunStatus.RUN_STATUS_CANCELLED, error
        )
        return write, event


async def release_parked(
    store: ParkedRunStore, producer: Producer, org_id: uuid.UUID, scenario_id: uuid.UUID
) -> int:
    """Publish the scenario's parked requests again, oldest first; returns how many. A bus error
    propagates with the rest still parked, so activating again continues where this stopped."""
    released = 0
    after = 0
    while True:
        batch = await store.parked(org_id, scenario_id, after_seq=after, limit=RELEASE_BATCH)
        if not batch:
            return released
        for entry in batch:
            request = RunRequested.FromString(entry.request)
            await producer.send(
                envelope.wrap(
                    topics.RUNS_REQUESTED,
                    request,
                    event_type=envelope.RUN_REQUESTED,
                    run_id=request.run_id,
                    organization_id=request.organization_id,
                    source="orchestrator",
                )
            )
            # Removed only once the bus has it; a re-park since (deactivated again) survives.
            await store.release([entry])
            released += 1
        after = batch[-1].seq
