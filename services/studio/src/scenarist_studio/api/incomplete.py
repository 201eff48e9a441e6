"""Incomplete executions of a scenario (RunService): list with the error and the parked bundle
(withheld by the orchestrator for confidential scenarios), retry and resolve.

Ids are "<run id>/<task id>"; the REST paths carry the two parts separately.
"""

from __future__ import annotations

from typing import Any

from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist_storage.models import Role

from scenarist_studio.context import Ctx
from scenarist_studio.routing import Endpoint, Query
from scenarist_studio.views import json_text, run_view, time_text


def incomplete_view(i: run_pb2.IncompleteExecution) -> dict[str, Any]:
    return {
        "id": i.id,
        "run_id": i.run_id,
        "task_id": i.id.partition("/")[2],
        "scenario_version": i.scenario_version,
        "module_id": i.module_id,
        "module": i.module,
        "error": {"type": i.error.type, "message": i.error.message},
        "attempts": i.attempts,
        "bundle": json_text(i.bundle),
        "confidential": i.confidential,
        "status": run_pb2.IncompleteExecutionStatus.Name(i.status)
        .removeprefix("INCOMPLETE_EXECUTION_STATUS_")
        .lower(),
        "created_at": time_text(i, "created_at"),
        "retry_run_id": i.retry_run_id or None,
        "closed_at": time_text(i, "closed_at"),
    }


def _id(ctx: Ctx) -> str:
    return f"{ctx.param('run_id')}/{ctx.param('task_id')}"


async def list_incomplete(ctx: Ctx) -> dict[str, Any]:
    request = pb.ListIncompleteExecutionsRequest(
        scenario_id=ctx.param("scenario_id"),
        include_closed=ctx.query("include_closed") == "true",
        page_size=int(ctx.query("page_size", "50") or 50),
        page_token=ctx.query("page_token"),
    )
    page = await ctx.call(ctx.studio.clients.runs.ListIncompleteExecutions, request)
    return {
        "incomplete_executions": [incomplete_view(i) for i in page.incomplete_executions],
        "next_page_token": page.next_page_token,
    }


async def retry_incomplete(ctx: Ctx) -> dict[str, Any]:
    request = pb.RetryIncompleteExecutionRequest(incomplete_execution_id=_id(ctx))
    done = await ctx.call(ctx.studio.clients.runs.RetryIncompleteExecution, request)
    return {
        "run": run_view(done.run),
        "incomplete_execution": incomplete_view(done.incomplete_execution),
    }


async def resolve_incomplete(ctx: Ctx) -> dict[str, Any]:
    request = pb.ResolveIncompleteExecutionRequest(incomplete_execution_id=_id(ctx))
    done = await ctx.call(ctx.studio.clients.runs.ResolveIncompleteExecution, request)
    return {"incomplete_execution": incomplete_view(done.incomplete_execution)}


_ONE = "/runs/{run_id}/incomplete-executions/{task_id}"
ENDPOINTS = (
    Endpoint(
        "GET",
        "/scenarios/{scenario_id}/incomplete-executions",
        list_incomplete,
        "Bundles the scenario's runs parked, newest first",
        "runs",
        query=(
            Query("include_closed", "true: also retried and resolved ones"),
            Query("page_size", "runs examined per page", "integer"),
            Query("page_token", "next_page_token of the previous page"),
        ),
    ),
    Endpoint(
        "POST",
        _ONE + "/retry",
        retry_incomplete,
        "Start a run that resumes at the parked module",
        "runs",
        role=Role.EDITOR,
        status=201,
    ),
    Endpoint(
        "POST",
        _ONE + "/resolve",
        resolve_incomplete,
        "Mark it resolved without running it",
        "runs",
        role=Role.EDITOR,
    ),
)
