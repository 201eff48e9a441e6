"""Scenarios: list with last run, create/import, read, save (a new version), duplicate, delete,
activate/deactivate, validate, export, versions and restore."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from pydantic import BaseModel, Field
from scenarist.run.v1 import run_service_pb2 as runs_pb
from scenarist.scenario.v1 import scenario_service_pb2 as pb
from scenarist_storage.models import Role
from starlette.responses import Response

from scenarist_studio.context import Ctx
from scenarist_studio.problems import ApiError
from scenarist_studio.routing import Endpoint, Query
from scenarist_studio.views import run_view, scenario_view

MAX_VERSIONS_LISTED = 50
_RECENT_RUNS = 500


class DocumentBody(BaseModel):
    document: dict[str, Any]


class SaveBody(BaseModel):
    document: dict[str, Any]
    expected_version: int | None = Field(default=None, ge=1)


class RestoreBody(BaseModel):
    version: int = Field(ge=1)


def _text(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


async def _get(ctx: Ctx, scenario_id: str, version: int = 0) -> Any:
    request = pb.GetScenarioRequest(scenario_id=scenario_id, version=version)
    return (await ctx.call(ctx.studio.clients.scenarios.GetScenario, request)).scenario


async def _last_runs(ctx: Ctx) -> dict[str, dict[str, Any]]:
    page = await ctx.call(
        ctx.studio.clients.runs.ListRuns, runs_pb.ListRunsRequest(page_size=_RECENT_RUNS)
    )
    latest: dict[str, dict[str, Any]] = {}
    for run in page.runs:  # newest first: the first seen per scenario is its last run
        latest.setdefault(run.scenario_id, run_view(run))
    return latest


async def list_scenarios(ctx: Ctx) -> dict[str, Any]:
    active = ctx.query("active")
    request = pb.ListScenariosRequest(
        page_size=int(ctx.query("page_size", "100") or 100),
        page_token=ctx.query("page_token"),
        name_filter=ctx.query("search"),
    )
    if active in {"true", "false"}:
        request.active = active == "true"
    page, last = await asyncio.gather(
        ctx.call(ctx.studio.clients.scenarios.ListScenarios, request), _last_runs(ctx)
    )
    items = [{**scenario_view(s), "last_run": last.get(s.id)} for s in page.scenarios]
    return {"scenarios": items, "next_page_token": page.next_page_token}


async def create_scenario(ctx: Ctx) -> dict[str, Any]:
    request = pb.CreateScenarioRequest(document=_text(ctx.payload(DocumentBody).document))
    created = await ctx.call(ctx.studio.clients.scenarios.CreateScenario, request)
    return scenario_view(created.scenario, document=True)


async def get_scenario(ctx: Ctx) -> dict[str, Any]:
    version = int(ctx.query("version", "0") or 0)
    return scenario_view(await _get(ctx, ctx.param("scenario_id"), version), document=True)


async def save_scenario(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(SaveBody)
    request = pb.UpdateScenarioRequest(
        scenario_id=ctx.param("scenario_id"), document=_text(body.document)
    )
    if body.expected_version is not None:
        request.expected_version = body.expected_version
    updated = await ctx.call(ctx.studio.clients.scenarios.UpdateScenario, request)
    return scenario_view(updated.scenario, document=True)


async def delete_scenario(ctx: Ctx) -> Response:
    request = pb.DeleteScenarioRequest(scenario_id=ctx.param("scenario_id"))
    await ctx.call(ctx.studio.clients.scenarios.DeleteScenario, request)
    return Response(status_code=204)


async def duplicate_scenario(ctx: Ctx) -> dict[str, Any]:
    original = await _get(ctx, ctx.param("scenario_id"))
    document = orjson.loads(original.document) if original.document.lstrip()[:1] == "{" else None
    if not isinstance(document, dict):
        raise ApiError(409, "Not possible now", "only JSON documents can be duplicated here")
    document["name"] = f"{document.get('name', 'Scenario')} (copy)"[:500]
    request = pb.CreateScenarioRequest(document=_text(document))
    created = await ctx.call(ctx.studio.clients.scenarios.CreateScenario, request)
    return scenario_view(created.scenario, document=True)


async def activate(ctx: Ctx) -> dict[str, Any]:
    request = pb.ActivateScenarioRequest(scenario_id=ctx.param("scenario_id"))
    done = await ctx.call(ctx.studio.clients.scenarios.ActivateScenario, request)
    return scenario_view(done.scenario)


async def deactivate(ctx: Ctx) -> dict[str, Any]:
    request = pb.DeactivateScenarioRequest(scenario_id=ctx.param("scenario_id"))
    done = await ctx.call(ctx.studio.clients.scenarios.DeactivateScenario, request)
    return scenario_view(done.scenario)


async def validate(ctx: Ctx) -> dict[str, Any]:
    request = pb.ValidateScenarioRequest(document=_text(ctx.payload(DocumentBody).document))
    found = await ctx.call(ctx.studio.clients.scenarios.ValidateScenario, request)
    issues = [
        {
            "module_id": i.module_id if i.HasField("module_id") else None,
            "path": i.path,
            "message": i.message,
        }
        for i in found.issues
    ]
    return {"valid": not issues, "issues": issues}


async def export(ctx: Ctx) -> Response:
    scenario = await _get(ctx, ctx.param("scenario_id"), int(ctx.query("version", "0") or 0))
    filename = f"scenario-{scenario.id}-v{scenario.version}.json"
    return Response(
        scenario.document,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def versions(ctx: Ctx) -> dict[str, Any]:
    latest = await _get(ctx, ctx.param("scenario_id"))
    numbers = range(latest.version, max(0, latest.version - MAX_VERSIONS_LISTED), -1)
    found = await asyncio.gather(*(_get(ctx, latest.id, n) for n in numbers))
    return {"versions": [scenario_view(s) for s in found]}


async def restore(ctx: Ctx) -> dict[str, Any]:
    scenario_id = ctx.param("scenario_id")
    old = await _get(ctx, scenario_id, ctx.payload(RestoreBody).version)
    request = pb.UpdateScenarioRequest(scenario_id=scenario_id, document=old.document)
    updated = await ctx.call(ctx.studio.clients.scenarios.UpdateScenario, request)
    return scenario_view(updated.scenario, document=True)


_ONE = "/scenarios/{scenario_id}"
ENDPOINTS = (
    Endpoint(
        "GET",
        "/scenarios",
        list_scenarios,
        "Scenarios with their last run",
        "scenarios",
        query=(
            Query("search", "name contains (case-insensitive)"),
            Query("active", "true or false"),
            Query("page_size", "page size", "integer"),
            Query("page_token", "next_page_token of the previous page"),
        ),
    ),
    Endpoint(
        "POST",
        "/scenarios",
        create_scenario,
        "Create (or import) a scenario",
        "scenarios",
        role=Role.EDITOR,
        body=DocumentBody,
        status=201,
    ),
    Endpoint(
        "POST",
        "/scenarios/validate",
        validate,
        "Validate a document",
        "scenarios",
        body=DocumentBody,
    ),
    Endpoint(
        "GET",
        _ONE,
        get_scenario,
        "A scenario version with its document",
        "scenarios",
        query=(Query("version", "0 or absent: the latest", "integer"),),
    ),
    Endpoint(
        "PUT",
        _ONE,
        save_scenario,
        "Save a new version",
        "scenarios",
        role=Role.EDITOR,
        body=SaveBody,
    ),
    Endpoint(
        "DELETE",
        _ONE,
        delete_scenario,
        "Delete a scenario",
        "scenarios",
        role=Role.EDITOR,
        status=204,
    ),
    Endpoint(
        "POST",
        _ONE + "/duplicate",
        duplicate_scenario,
        "Copy a scenario",
        "scenarios",
        role=Role.EDITOR,
        status=201,
    ),
    Endpoint(
        "POST", _ONE + "/activate", activate, "Turn triggers on", "scenarios", role=Role.EDITOR
    ),
    Endpoint(
        "POST", _ONE + "/deactivate", deactivate, "Turn triggers off", "scenarios", role=Role.EDITOR
    ),
    Endpoint(
        "GET",
        _ONE + "/export",
        export,
        "The native JSON document",
        "scenarios",
        query=(Query("version", "0 or absent: the latest", "integer"),),
    ),
    Endpoint("GET", _ONE + "/versions", versions, "The latest versions, newest first", "scenarios"),
    Endpoint(
        "POST",
        _ONE + "/restore",
        restore,
        "Save an old version as the newest",
        "scenarios",
        role=Role.EDITOR,
        body=RestoreBody,
    ),
)
