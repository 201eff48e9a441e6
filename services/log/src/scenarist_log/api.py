"""LogService over gRPC: the execution history of the caller's organization only."""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class

from __future__ import annotations

from datetime import UTC

from scenarist.log.v1 import log_service_pb2 as pb
from scenarist.log.v1 import log_service_pb2_grpc as pb_grpc
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_runtime.rpc import (
    Context,
    abort_invalid,
    not_found,
    optional_id,
    page_size,
    parse_id,
    store_errors,
)
from scenarist_storage.models import Role
from scenarist_storage.ports import LogStore

from scenarist_log.claimed import resolve_steps
from scenarist_log.convert import step_message, summary_message

STEPS_PAGE = (100, 1000)  # (default, maximum) from log_service.proto
RUNS_PAGE = (50, 500)


class LogServicer(pb_grpc.LogServiceServicer):
    def __init__(self, logs: LogStore, claims: ClaimChecks | None = None) -> None:
        self._logs = logs
        self._claims = claims  # resolves step bodies that went by claim check

    async def GetRunLog(
        self, request: pb.GetRunLogRequest, context: Context
    ) -> pb.GetRunLogResponse:
        org = current_principal().org_id
        run_id = await parse_id(context, request.run_id, "run_id")
        size = await page_size(context, request.page_size, *STEPS_PAGE)
        # Unknown in this org (never seen, or another org's) is NOT_FOUND: answering an empty
        # page only for foreign runs would tell that they exist.
        if not await self._logs.has_run(org, run_id):
            await not_found(context, f"run {run_id}")
        async with store_errors(context, f"run {run_id}"):
            page = await self._logs.list_run_steps(
                org, run_id, page_size=size, page_token=request.page_token or None
            )
        steps = [step_message(step) for step in page.items]
        await resolve_steps(steps, self._claims)
        return pb.GetRunLogResponse(
            steps=steps,
            next_page_token=page.next_page_token or "",
        )

    async def ListRunLogs(
        self, request: pb.ListRunLogsRequest, context: Context
    ) -> pb.ListRunLogsResponse:
        org = current_principal().org_id
        scenario_id = await optional_id(context, request.scenario_id, "scenario_id")
        size = await page_size(context, request.page_size, *RUNS_PAGE)
        async with store_errors(context, "run logs"):
            page = await self._logs.list_run_summaries(
                org, scenario_id=scenario_id, page_size=size, page_token=request.page_token or None
            )
        return pb.ListRunLogsResponse(
            runs=[summary_message(summary) for summary in page.items],
            next_page_token=page.next_page_token or "",
        )

    async def DeleteRunLogs(
        self, request: pb.DeleteRunLogsRequest, context: Context
    ) -> pb.DeleteRunLogsResponse:
        principal = await require_role(context, Role.OWNER)
        if not request.HasField("finished_before"):
            await abort_invalid(
                context, "finished_before is required", [("finished_before", "required")]
            )
        scenario_id = await optional_id(context, request.scenario_id, "scenario_id")
        result = await self._logs.delete_runs(
            principal.org_id,
            finished_before=request.finished_before.ToDatetime(tzinfo=UTC),
            scenario_id=scenario_id,
        )
        return pb.DeleteRunLogsResponse(deleted_runs=result.runs, deleted_steps=result.steps)
