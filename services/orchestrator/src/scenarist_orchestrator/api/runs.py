"""RunService: start, inspect, cancel and follow runs of the caller's organization.

StartRun creates the run row (status queued) itself and then produces a RunRequested on
runs.requested, so the run is visible at once and takes the same path as triggered runs; the
orchestrator that owns the run's partition starts it (a queued row with no state is exactly what
the processor starts). CancelRun produces a RUN_CANCEL envelope on the same topic and key, so the
run's owner applies it in order with the run's other messages.

Incomplete executions (list, retry, resolve) are in incomplete.py.

StreamRunEvents polls the run store (every 0.1 s, backing off to 1 s while nothing changes) rather
than consuming runs.events: every orchestrator replica would otherwise need its own consumer of
every event. Events are built from the stored run, so each carries the full status and count.
"""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
from google.protobuf.message import Message
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.run.v1.events_pb2 import RunEventType, RunRequested
from scenarist_bus import envelope, topics
from scenarist_bus.port import BusError, Producer
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import Context, abort, abort_invalid, not_found, page_size, parse_id
from scenarist_storage.completion_models import IncompleteRetryStore
from scenarist_storage.incomplete_models import IncompleteStore
from scenarist_storage.memory.incomplete import MemoryIncompleteStore
from scenarist_storage.models import Role, RunRecord
from scenarist_storage.ports import RunStore, ScenarioStore

from scenarist_orchestrator.api.common import store_errors
from scenarist_orchestrator.api.incomplete import IncompleteExecutions
from scenarist_orchestrator.api.run_view import (
    LIVE,
    STATUS_NAMES,
    Source,
    Status,
    run_event,
    run_message,
)
from scenarist_orchestrator.retrying import IncompleteRetry, publish_run_request, run_request

pb = run_service_pb2
SOURCE = "orchestrator-api"
START_SOURCES = {
    Source.TRIGGER_SOURCE_UNSPECIFIED: "api",
    Source.TRIGGER_SOURCE_API: "api",
    Source.TRIGGER_SOURCE_MANUAL: "manual",
}


@dataclass(frozen=True)
class Polling:
    """How often StreamRunEvents and CancelRun look at the stored run."""

    first_seconds: float = 0.1
    max_seconds: float = 1.0
    cancel_wait_seconds: float = 5.0


def _event_kind(run: run_pb2.Run, previous: int | None) -> RunEventType.ValueType:
    if run.status == Status.RUN_STATUS_CANCELLED:
        return RunEventType.RUN_EVENT_TYPE_CANCELLED
    if STATUS_NAMES.get(run.status) not in LIVE:
        return RunEventType.RUN_EVENT_TYPE_FINISHED
    if previous is None or previous == Status.RUN_STATUS_QUEUED:
        return RunEventType.RUN_EVENT_TYPE_STARTED
    return RunEventType.RUN_EVENT_TYPE_OPERATION


class RunServicer(run_service_pb2_grpc.RunServiceServicer):
    def __init__(
        self,
        scenarios: ScenarioStore,
        runs: RunStore,
        producer: Producer,
        polling: Polling | None = None,
        incomplete: IncompleteStore | None = None,
        *,
        schedules: IncompleteRetryStore | None = None,
    ) -> None:
        self._scenarios = scenarios
        self._runs = runs
        self._producer = producer
        self._polling = polling or Polling()
        # In memory only where no store is given (tests); the service passes the Postgres one.
        closures = incomplete or MemoryIncompleteStore()
        request = functools.partial(publish_run_request, producer, source=SOURCE)
        retry = IncompleteRetry(runs, closures, request, schedules)
        self._incomplete = IncompleteExecutions(scenarios, runs, closures, retry, schedules)

    # ----- helpers ----------------------------------------------------------------------------

    async def _run(self, context: Context, run_text: str) -> RunRecord:
        run_id = await parse_id(context, run_text, "run_id")
        record = await self._runs.get(current_principal().org_id, run_id)
        if record is None:
            await not_found(context, "run")
        return record

    async def _produce(self, context: Context, record: RunRecord, kind: str, msg: Message) -> None:
        try:
            await self._producer.send(
                envelope.wrap(
                    topics.RUNS_REQUESTED,
                    msg,
                    event_type=kind,
                    run_id=str(record.id),
                    organization_id=str(record.org_id),
                    source=SOURCE,
                )
            )
        except BusError as exc:
            await abort(
                context, grpc.StatusCode.UNAVAILABLE, f"the run queue is unavailable: {exc}"
            )

    async def _input(self, context: Context, text: str) -> dict[str, Any]:
        try:
            value = orjson.loads(text) if text.strip() else {}
        except orjson.JSONDecodeError as exc:
            await abort_invalid(context, "invalid input", [("input", f"not valid JSON: {exc}")])
        if not isinstance(value, dict):
            await abort_invalid(context, "invalid input", [("input", "must be a JSON object")])
        return value

    async def _request(self, context: Context, record: RunRecord) -> None:
        await self._produce(context, record, envelope.RUN_REQUESTED, run_request(record))

    # ----- RPCs -------------------------------------------------------------------------------

    async def StartRun(self, request: pb.StartRunRequest, context: Context) -> pb.StartRunResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        trigger = await self._input(context, request.input)
        source = START_SOURCES.get(request.source)
        if source is None:
            await abort_invalid(context, "invalid source", [("source", "must be MANUAL or API")])
        if request.scenario_version < 0:
            await abort_invalid(
                context, "invalid scenario_version", [("scenario_version", "must not be negative")]
            )
        scenario = await self._scenarios.get(
            principal.org_id, scenario_id, request.scenario_version or None
        )
        if scenario is None:
            await not_found(context, "scenario")
        record, _ = await self._runs.create_run(
            principal.org_id,
            scenario_id,
            scenario.version,  # pinned now, so the returned run names what will run
            uuid.uuid4(),
            idempotency_key=request.idempotency_key or None,
            trigger=trigger,
            source=source,
        )
        if record.status == "queued" and not record.state:
            # New, or a repeated key whose first request may have been lost: (re)request it; the
            # orchestrator starts a run id once.
            await self._request(context, record)
        return pb.StartRunResponse(run=run_message(record))

    async def GetRun(self, request: pb.GetRunRequest, context: Context) -> pb.GetRunResponse:
        return pb.GetRunResponse(run=run_message(await self._run(context, request.run_id)))

    async def ListRuns(self, request: pb.ListRunsRequest, context: Context) -> pb.ListRunsResponse:
        org_id = current_principal().org_id
        scenario_id = None
        if request.scenario_id:
            scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
            # Deleted scenarios keep their runs listable; other tenants' are NOT_FOUND.
            if await self._scenarios.get(org_id, scenario_id, include_deleted=True) is None:
                await not_found(context, "scenario")
        statuses = [STATUS_NAMES.get(s) for s in request.statuses]
        if None in statuses:
            await abort_invalid(context, "invalid statuses", [("statuses", "unknown status")])
        size = await page_size(context, request.page_size)
        async with store_errors(context, "run"):
            page = await self._runs.list(
                org_id,
                scenario_id=scenario_id,
                status=[s for s in statuses if s is not None] or None,
                page_size=size,
                page_token=request.page_token or None,
            )
        return pb.ListRunsResponse(
            runs=[run_message(r) for r in page.items], next_page_token=page.next_page_token or ""
        )

    async def CancelRun(
        self, request: pb.CancelRunRequest, context: Context
    ) -> pb.CancelRunResponse:
        await require_role(context, Role.EDITOR)
        record = await self._run(context, request.run_id)
        if record.status == "cancelled":
            return pb.CancelRunResponse(run=run_message(record))
        if record.status not in LIVE:
            await abort(
                context, grpc.StatusCode.FAILED_PRECONDITION, f"the run already {record.status}"
            )
        cancel = RunRequested(
            run_id=str(record.id),
            organization_id=str(record.org_id),
            scenario_id=str(record.scenario_id),
        )
        await self._produce(context, record, envelope.RUN_CANCEL, cancel)
        # The owner applies it within a batch; if it is slow, answer with the run as it is.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._polling.cancel_wait_seconds):
                async with contextlib.aclosing(self._changes(record)) as changes:
                    async for current in changes:
                        record = current
        return pb.CancelRunResponse(run=run_message(record))

    async def StreamRunEvents(
        self, request: pb.StreamRunEventsRequest, context: Context
    ) -> AsyncIterator[pb.StreamRunEventsResponse]:
        record = await self._run(context, request.run_id)
        previous: int | None = None
        async with contextlib.aclosing(self._changes(record)) as changes:
            async for current in changes:
                run = run_message(current)
                if current.status != "queued":  # no event type says "queued": wait for the start
                    yield pb.StreamRunEventsResponse(
                        event=run_event(run, _event_kind(run, previous))
                    )
                previous = run.status

    async def ListIncompleteExecutions(
        self, request: pb.ListIncompleteExecutionsRequest, context: Context
    ) -> pb.ListIncompleteExecutionsResponse:
        return await self._incomplete.list(request, context)

    async def RetryIncompleteExecution(
        self, request: pb.RetryIncompleteExecutionRequest, context: Context
    ) -> pb.RetryIncompleteExecutionResponse:
        return await self._incomplete.retry(request, context)

    async def ResolveIncompleteExecution(
        self, request: pb.ResolveIncompleteExecutionRequest, context: Context
    ) -> pb.ResolveIncompleteExecutionResponse:
        return await self._incomplete.resolve(request, context)

    async def _changes(self, record: RunRecord) -> AsyncGenerator[RunRecord, None]:
        """`record`, then the stored run each time its status or operations change, polling with
        a backoff that resets on every change; ends when the run ends or disappears. Polls
        read status and operations only; the state (megabytes for a big fan-out) is read again
        when the status changes, the only time what a watcher sees of it can change."""
        yield record
        delay = self._polling.first_seconds
        seen = (record.status, record.operations)
        while record.status in LIVE:
            await asyncio.sleep(delay)
            found = await self._runs.get(record.org_id, record.id, with_state=False)
            if found is not None and found.status != record.status:
                found = await self._runs.get(record.org_id, record.id)
            elif found is not None:
                found = dataclasses.replace(
                    record,
                    status=found.status,
                    operations=found.operations,
                    updated_at=found.updated_at,
                )
            if found is None:
                return
            record = found
            if (record.status, record.operations) == seen:
                delay = min(delay * 2, self._polling.max_seconds)
                continue
            seen = (record.status, record.operations)
            delay = self._polling.first_seconds
            yield record
