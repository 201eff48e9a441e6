"""Incomplete executions for RunService: list, retry, resolve.

The parked bundles live in each run's stored engine state (`RunState.incomplete`); how each one
was closed lives in the IncompleteStore, and its automatic retries (attempt, plan, next due
time, outcome) in the IncompleteRetryStore. A retry takes the path in retrying.py, the one the
automatic-completion loop takes too.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import orjson
from pydantic import ValidationError
from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1 import run_pb2, run_service_pb2
from scenarist_bus.port import BusError
from scenarist_engine.model.loading import scenario_from_data
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import (
    Context,
    abort,
    abort_invalid,
    not_found,
    page_size,
    parse_id,
    timestamp,
)
from scenarist_storage.completion_models import (
    RETRY_COMPLETED,
    RETRY_WAITING,
    IncompleteRetryStore,
    RetrySchedule,
)
from scenarist_storage.incomplete_models import (
    CLOSURE_RESOLVED,
    CLOSURE_RETRIED,
    IncompleteClosure,
    IncompleteStore,
)
from scenarist_storage.models import Role, RunRecord
from scenarist_storage.ports import RunStore, ScenarioStore

from scenarist_orchestrator.api.common import store_errors
from scenarist_orchestrator.api.run_view import run_message
from scenarist_orchestrator.retrying import IncompleteRetry

pb = run_service_pb2
Status = run_pb2.IncompleteExecutionStatus
# Runs that may hold parked bundles: finished with a warning, or stopped later by an error.
PARKING_STATUSES = ("warning", "error")
_STATUS = {
    None: Status.INCOMPLETE_EXECUTION_STATUS_OPEN,
    CLOSURE_RETRIED: Status.INCOMPLETE_EXECUTION_STATUS_RETRIED,
    CLOSURE_RESOLVED: Status.INCOMPLETE_EXECUTION_STATUS_RESOLVED,
}


def parked_items(record: RunRecord) -> list[dict[str, Any]]:
    found = (record.state or {}).get("incomplete") or []
    return [item for item in found if isinstance(item, dict) and isinstance(item.get("id"), str)]


class _Versions:
    """What the listing needs of each scenario version: confidentiality and module kinds."""

    def __init__(self, scenarios: ScenarioStore) -> None:
        self._scenarios = scenarios
        self._seen: dict[tuple[uuid.UUID, int], tuple[bool, dict[int, str]]] = {}

    async def get(self, record: RunRecord) -> tuple[bool, dict[int, str]]:
        key = (record.scenario_id, record.version)
        if key not in self._seen:
            found = await self._scenarios.get(
                record.org_id, record.scenario_id, record.version, include_deleted=True
            )
            self._seen[key] = _describe(found.document if found is not None else None)
        return self._seen[key]


def _describe(document: Any) -> tuple[bool, dict[int, str]]:
    try:
        scenario = scenario_from_data(document)
    except (ValidationError, ValueError, TypeError):
        return True, {}  # unreadable: withhold bundles rather than guess
    return scenario.settings.confidential, {m.id: m.module for m in scenario.walk()}


def incomplete_message(
    record: RunRecord,
    item: dict[str, Any],
    closure: IncompleteClosure | None,
    version: tuple[bool, dict[int, str]],
    schedule: RetrySchedule | None = None,
) -> run_pb2.IncompleteExecution:
    confidential, kinds = version
    raw_error = item.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    module_id = int(item.get("module_id") or 0)
    message = run_pb2.IncompleteExecution(
        id=item["id"],
        run_id=str(record.id),
        scenario_id=str(record.scenario_id),
        scenario_version=record.version,
        module_id=module_id,
        module=kinds.get(module_id, ""),
        error=Error(type=str(error.get("type", "")), message=str(error.get("message", ""))),
        attempts=int(item.get("attempts") or 0),
        confidential=confidential,
        status=_STATUS[closure.status if closure else None],
    )
    if not confidential:
        message.bundle = orjson.dumps(item.get("path") or {}).decode()
    finished = (record.state or {}).get("finished_at")
    message.created_at.CopyFrom(
        timestamp(float(finished))
        if isinstance(finished, int | float)
        else timestamp(record.updated_at)
    )
    if closure is not None:
        message.closed_at.CopyFrom(timestamp(closure.closed_at))
        if closure.retry_run_id is not None:
            message.retry_run_id = str(closure.retry_run_id)
    if schedule is not None:
        _add_schedule(message, schedule, closure)
    return message


def _add_schedule(
    message: run_pb2.IncompleteExecution,
    schedule: RetrySchedule,
    closure: IncompleteClosure | None,
) -> None:
    message.retry_attempt = schedule.attempt
    message.retry_count = len(schedule.plan_minutes)
    if schedule.state == RETRY_WAITING and closure is None and schedule.due_at is not None:
        message.next_retry_at.CopyFrom(timestamp(schedule.due_at))
    if schedule.state == RETRY_COMPLETED and closure is not None:
        message.status = Status.INCOMPLETE_EXECUTION_STATUS_COMPLETED


class IncompleteExecutions:
    def __init__(
        self,
        scenarios: ScenarioStore,
        runs: RunStore,
        store: IncompleteStore,
        retry: IncompleteRetry,
        schedules: IncompleteRetryStore | None = None,
    ) -> None:
        self._scenarios = scenarios
        self._runs = runs
        self._store = store
        self._retry = retry
        self._schedules = schedules

    async def _schedules_of(
        self, org_id: uuid.UUID, records: list[RunRecord]
    ) -> dict[str, RetrySchedule]:
        ids = [item["id"] for record in records for item in parked_items(record)]
        if self._schedules is None or not ids:
            return {}
        return await self._schedules.get_many(org_id, ids)

    async def list(
        self, request: pb.ListIncompleteExecutionsRequest, context: Context
    ) -> pb.ListIncompleteExecutionsResponse:
        org_id = current_principal().org_id
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        if await self._scenarios.get(org_id, scenario_id, include_deleted=True) is None:
            await not_found(context, "scenario")
        size = await page_size(context, request.page_size)
        async with store_errors(context, "run"):
            page = await self._runs.list(
                org_id,
                scenario_id=scenario_id,
                status=PARKING_STATUSES,
                page_size=size,
                page_token=request.page_token or None,
            )
        closures = await self._store.closures(org_id, [r.id for r in page.items])
        schedules = await self._schedules_of(org_id, page.items)
        versions = _Versions(self._scenarios)
        items = []
        for record in page.items:
            for item in parked_items(record):
                closure = closures.get(item["id"])
                if closure is None or request.include_closed:
                    version = await versions.get(record)
                    schedule = schedules.get(item["id"])
                    items.append(incomplete_message(record, item, closure, version, schedule))
        return pb.ListIncompleteExecutionsResponse(
            incomplete_executions=items, next_page_token=page.next_page_token or ""
        )

    async def _find(self, context: Context, text: str) -> tuple[RunRecord, dict[str, Any]]:
        run_text, slash, _ = text.partition("/")
        if not slash:
            await abort_invalid(
                context,
                "invalid incomplete_execution_id",
                [("incomplete_execution_id", "must be <run id>/<task id>")],
            )
        run_id = await parse_id(context, run_text, "incomplete_execution_id")
        record = await self._runs.get(current_principal().org_id, run_id)
        item = next((i for i in parked_items(record) if i["id"] == text), None) if record else None
        if record is None or item is None:
            await not_found(context, "incomplete execution")
        return record, item

    async def retry(
        self, request: pb.RetryIncompleteExecutionRequest, context: Context
    ) -> pb.RetryIncompleteExecutionResponse:
        principal = await require_role(context, Role.EDITOR)
        record, item = await self._find(context, request.incomplete_execution_id)
        try:
            started = await self._retry.retry(principal.org_id, record, item)
        except BusError as exc:
            # The closure and run exist; retrying again re-requests the run.
            await abort(
                context, grpc.StatusCode.UNAVAILABLE, f"the run queue is unavailable: {exc}"
            )
        if started.run is None:
            await abort(context, grpc.StatusCode.FAILED_PRECONDITION, "it was resolved already")
        version = await _Versions(self._scenarios).get(record)
        schedules = await self._schedules_of(principal.org_id, [record])
        return pb.RetryIncompleteExecutionResponse(
            run=run_message(started.run),
            incomplete_execution=incomplete_message(
                record, item, started.closure, version, schedules.get(item["id"])
            ),
        )

    async def resolve(
        self, request: pb.ResolveIncompleteExecutionRequest, context: Context
    ) -> pb.ResolveIncompleteExecutionResponse:
        principal = await require_role(context, Role.EDITOR)
        record, item = await self._find(context, request.incomplete_execution_id)
        closure, _ = await self._store.close(
            principal.org_id, item["id"], record.id, CLOSURE_RESOLVED
        )
        if closure.status != CLOSURE_RESOLVED:
            await abort(context, grpc.StatusCode.FAILED_PRECONDITION, "it was retried already")
        version = await _Versions(self._scenarios).get(record)
        return pb.ResolveIncompleteExecutionResponse(
            incomplete_execution=incomplete_message(record, item, closure, version)
        )
