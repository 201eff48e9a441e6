"""Retrying an incomplete execution: the one path RunService.RetryIncompleteExecution (a person)
and the automatic-completion loop (completion.py) share.

A retry claims the incomplete execution first (the closure row carries the retry run's id, first
writer wins), then creates that run and asks the orchestrator to start it with
`RunRequested.resume`: the processor hands the parked bundle to the engine's
`start_run(..., resume=...)`, so the state machine alone decides what runs next. Everything is
idempotent: retrying again finds the same closure and run, and requests the run again only if
it never started (the first request may have been lost).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import IncompleteExecutionRef, RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.port import Producer
from scenarist_runtime.claim_check import to_message
from scenarist_storage.completion_models import RETRY_RETRYING, IncompleteRetryStore
from scenarist_storage.incomplete_models import CLOSURE_RETRIED, IncompleteClosure, IncompleteStore
from scenarist_storage.models import RunRecord
from scenarist_storage.ports import RunStore

from scenarist_orchestrator.api.run_view import SOURCES, Source

# A retry runs like "Run once": whatever the scenario's activation (see parking.py).
RETRY_SOURCE = "manual"

RequestRun = Callable[[RunRecord, IncompleteExecutionRef], Awaitable[None]]


def run_request(record: RunRecord, resume: IncompleteExecutionRef | None = None) -> RunRequested:
    """The RunRequested that starts a created (queued) run."""
    request = RunRequested(
        run_id=str(record.id),
        organization_id=str(record.org_id),
        scenario_id=str(record.scenario_id),
        scenario_version=record.version,
        idempotency_key=record.idempotency_key or "",
        source=SOURCES.get(record.source, Source.TRIGGER_SOURCE_API),
    )
    if record.trigger_claim is not None:  # kept in the claim store: the reference travels
        request.trigger_claim_check.CopyFrom(to_message(record.trigger_claim))
    else:
        request.trigger = orjson.dumps(record.trigger).decode()
    if resume is not None:
        request.resume.CopyFrom(resume)
    request.requested_at.GetCurrentTime()
    return request


async def publish_run_request(
    producer: Producer,
    record: RunRecord,
    resume: IncompleteExecutionRef | None = None,
    *,
    source: str,
) -> None:
    """Put the run's RunRequested on runs.requested; a BusError propagates."""
    await producer.send(
        envelope.wrap(
            topics.RUNS_REQUESTED,
            run_request(record, resume),
            event_type=envelope.RUN_REQUESTED,
            run_id=str(record.id),
            organization_id=str(record.org_id),
            source=source,
        )
    )


@dataclass(frozen=True)
class RetryStarted:
    closure: IncompleteClosure
    run: RunRecord | None  # None: the incomplete execution was resolved already


class IncompleteRetry:
    def __init__(
        self,
        runs: RunStore,
        closures: IncompleteStore,
        request: RequestRun,
        schedules: IncompleteRetryStore | None = None,
    ) -> None:
        self._runs = runs
        self._closures = closures
        self._request = request
        self._schedules = schedules  # None: nobody follows the retry run up (unit tests)

    async def retry(
        self,
        org_id: uuid.UUID,
        record: RunRecord,
        item: dict[str, Any],
        retry_run_id: uuid.UUID | None = None,
    ) -> RetryStarted:
        """Retry the incomplete execution `item` parked by run `record`. `retry_run_id`: the id
        to give the retry run (an automatic claim picks it before retrying, so a claim retried
        after a crash creates the same run); a closure that exists already keeps its own."""
        closure, _ = await self._closures.close(
            org_id, item["id"], record.id, CLOSURE_RETRIED, retry_run_id or uuid.uuid4()
        )
        if closure.status != CLOSURE_RETRIED or closure.retry_run_id is None:
            return RetryStarted(closure, None)
        run, _ = await self._runs.create_run(
            org_id,
            record.scenario_id,
            record.version,
            closure.retry_run_id,
            idempotency_key=None,
            trigger=record.trigger,
            source=RETRY_SOURCE,
            trigger_claim=record.trigger_claim,  # the reference only: a resume never reads it
        )
        if run.status == "queued" and not run.state:
            ref = IncompleteExecutionRef(run_id=str(record.id), incomplete_execution_id=item["id"])
            await self._request(run, ref)
        if self._schedules is not None:
            await self._schedules.set_state(org_id, item["id"], RETRY_RETRYING, run.id)
        return RetryStarted(closure, run)
