"""Runs: "Run once", history per scenario, and the run inspector (run state plus its steps)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from pydantic import BaseModel, Field
from scenarist.log.v1 import log_service_pb2 as log_pb
from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist_storage.models import Role

from scenarist_studio.context import Ctx
from scenarist_studio.problems import ApiError
from scenarist_studio.routing import Endpoint, Query
from scenarist_studio.views import run_view, step_view

MAX_STEP_PAGES = 10
_STATUSES = {
    name.removeprefix("RUN_STATUS_").lower(): value
    for name, value in run_pb2.RunStatus.items()
    if value != run_pb2.RUN_STATUS_UNSPECIFIED
}


class RunOnce(BaseModel):
    input: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(default=0, ge=0)


async def start_run(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(RunOnce)
    request = pb.StartRunRequest(
        scenario_id=ctx.param("scenario_id"),
        input=orjson.dumps(body.input).decode(),
        scenario_version=body.version,
        source=run_pb2.TRIGGER_SOURCE_MANUAL,
    )
    started = await ctx.call(ctx.studio.clients.runs.StartRun, request)
    return run_view(started.run)


async def list_runs(ctx: Ctx) -> dict[str, Any]:
    request = pb.ListRunsRequest(
        scenario_id=ctx.param("scenario_id"),
        page_size=int(ctx.query("page_size", "50") or 50),
        page_token=ctx.query("page_token"),
    )
    for name in filter(None, ctx.query("status").split(",")):
        if name not in _STATUSES:
            raise ApiError(400, "Invalid request", f"unknown status {name!r}")
        request.statuses.append(_STATUSES[name])
    page = await ctx.call(ctx.studio.clients.runs.ListRuns, request)
    return {"runs": [run_view(r) for r in page.runs], "next_page_token": page.next_page_token}


async def _steps(ctx: Ctx, run_id: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_STEP_PAGES):
        page = await ctx.call(
            ctx.studio.clients.logs.GetRunLog,
            log_pb.GetRunLogRequest(run_id=run_id, page_size=1000, page_token=token),
        )
        steps += [step_view(s) for s in page.steps]
        token = page.next_page_token
        if not token:
            break
    return steps


async def get_run(ctx: Ctx) -> dict[str, Any]:
    run_id = ctx.param("run_id")
    found, steps = await asyncio.gather(
        ctx.call(ctx.studio.clients.runs.GetRun, pb.GetRunRequest(run_id=run_id)),
        _steps(ctx, run_id),
    )
    return {"run": run_view(found.run), "steps": steps}


async def cancel_run(ctx: Ctx) -> dict[str, Any]:
    request = pb.CancelRunRequest(run_id=ctx.param("run_id"))
    return run_view((await ctx.call(ctx.studio.clients.runs.CancelRun, request)).run)


ENDPOINTS = (
    Endpoint(
        "POST",
        "/scenarios/{scenario_id}/runs",
        start_run,
        "Run once with a sample input",
        "runs",
        role=Role.EDITOR,
        body=RunOnce,
        status=201,
    ),
    Endpoint(
        "GET",
        "/scenarios/{scenario_id}/runs",
        list_runs,
        "Run history, newest first",
        "runs",
        query=(
            Query("status", "comma-separated statuses"),
            Query("page_size", "page size", "integer"),
            Query("page_token", "next_page_token of the previous page"),
        ),
    ),
    Endpoint("GET", "/runs/{run_id}", get_run, "A run with every step's bundles", "runs"),
    Endpoint(
        "POST", "/runs/{run_id}/cancel", cancel_run, "Stop a live run", "runs", role=Role.EDITOR
    ),
)
