"""ScenarioService: versioned scenario documents of the caller's organization.

Documents arrive as JSON or YAML text (native, or a Make blueprint export); they are parsed and
validated by the engine, and the *native* document is stored as JSON, so what runs is exactly
what was validated. Reads return that stored JSON, not the submitted text.

ActivateScenario also releases the runs queued while the scenario was inactive (parking.py): they
are requested again, oldest first. If the bus fails midway the call answers UNAVAILABLE with the
scenario active and the rest still queued; activating again releases them.
"""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class
from __future__ import annotations

import grpc
import orjson
from scenarist.scenario.v1 import scenario_pb2, scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_bus.port import BusError, Producer
from scenarist_engine.errors import ScenarioValidationError, ValidationIssue
from scenarist_engine.model.loading import load_scenario_text
from scenarist_engine.model.scenario import Scenario
from scenarist_engine.model.validate import validate_or_raise
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
from scenarist_storage.models import JsonObject, Role, ScenarioRecord
from scenarist_storage.ports import ParkedRunStore, ScenarioStore

from scenarist_orchestrator.api.common import store_errors
from scenarist_orchestrator.app_modules import known_modules
from scenarist_orchestrator.parking import release_parked

pb = scenario_service_pb2


def parse_document(text: str) -> Scenario:
    """The validated scenario; raises ScenarioValidationError with every issue."""
    # Built-in kinds and the installed connectors' app modules (http:MakeRequest, ...).
    return validate_or_raise(load_scenario_text(text), known_modules=known_modules())


def native_document(scenario: Scenario) -> JsonObject:
    """The document as stored: native field names, defaults left out (they are re-applied on
    load), so it stays close to what a person wrote."""
    return scenario.model_dump(mode="json", exclude_defaults=True)


def issue_field(issue: ValidationIssue) -> str:
    return f"document.{issue.path}" if issue.path else "document"


def issue_description(issue: ValidationIssue) -> str:
    where = f"module {issue.module_id}: " if issue.module_id is not None else ""
    return f"{where}{issue.message}"


def scenario_message(
    record: ScenarioRecord, *, with_document: bool = True
) -> scenario_pb2.Scenario:
    message = scenario_pb2.Scenario(
        id=str(record.id),
        organization_id=str(record.org_id),
        name=record.name,
        version=record.version,
        active=record.active,
        document=orjson.dumps(record.document).decode() if with_document else "",
    )
    message.created_at.CopyFrom(timestamp(record.created_at))
    message.updated_at.CopyFrom(timestamp(record.updated_at))
    return message


class ScenarioServicer(scenario_service_pb2_grpc.ScenarioServiceServicer):
    def __init__(
        self,
        scenarios: ScenarioStore,
        parked: ParkedRunStore | None = None,
        producer: Producer | None = None,
    ) -> None:
        self._scenarios = scenarios
        self._parked = parked
        self._producer = producer

    async def _document(self, context: Context, text: str) -> Scenario:
        if not text.strip():
            await abort_invalid(context, "empty document", [("document", "must not be empty")])
        try:
            return parse_document(text)
        except ScenarioValidationError as exc:
            violations = [(issue_field(i), issue_description(i)) for i in exc.issues]
            await abort_invalid(context, "invalid scenario document", violations)

    async def CreateScenario(
        self, request: pb.CreateScenarioRequest, context: Context
    ) -> pb.CreateScenarioResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario = await self._document(context, request.document)
        record = await self._scenarios.create(
            principal.org_id, scenario.name, native_document(scenario)
        )
        return pb.CreateScenarioResponse(scenario=scenario_message(record))

    async def UpdateScenario(
        self, request: pb.UpdateScenarioRequest, context: Context
    ) -> pb.UpdateScenarioResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        scenario = await self._document(context, request.document)
        expected = request.expected_version if request.HasField("expected_version") else None
        async with store_errors(context, "scenario"):
            record = await self._scenarios.new_version(
                principal.org_id,
                scenario_id,
                native_document(scenario),
                name=scenario.name,
                expected_version=expected,
            )
        return pb.UpdateScenarioResponse(scenario=scenario_message(record))

    async def GetScenario(
        self, request: pb.GetScenarioRequest, context: Context
    ) -> pb.GetScenarioResponse:
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        if request.version < 0:
            await abort_invalid(context, "invalid version", [("version", "must not be negative")])
        record = await self._scenarios.get(
            current_principal().org_id, scenario_id, request.version or None
        )
        if record is None:
            await not_found(context, "scenario")
        return pb.GetScenarioResponse(scenario=scenario_message(record))

    async def ListScenarios(
        self, request: pb.ListScenariosRequest, context: Context
    ) -> pb.ListScenariosResponse:
        size = await page_size(context, request.page_size)
        async with store_errors(context, "scenario"):
            page = await self._scenarios.list(
                current_principal().org_id,
                page_size=size,
                page_token=request.page_token or None,
                name_contains=request.name_filter or None,
            )
        items = page.items
        if request.HasField("active"):
            # The store has no active filter; filtering the page keeps paging correct, at the
            # price of pages shorter than page_size.
            items = [r for r in items if r.active == request.active]
        return pb.ListScenariosResponse(
            scenarios=[scenario_message(r, with_document=False) for r in items],
            next_page_token=page.next_page_token or "",
        )

    async def DeleteScenario(
        self, request: pb.DeleteScenarioRequest, context: Context
    ) -> pb.DeleteScenarioResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id")
        async with store_errors(context, "scenario"):
            await self._scenarios.delete(principal.org_id, scenario_id)
        return pb.DeleteScenarioResponse()

    async def _set_active(
        self, context: Context, scenario_text: str, active: bool
    ) -> ScenarioRecord:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, scenario_text, "scenario_id")
        async with store_errors(context, "scenario"):
            return await self._scenarios.set_active(principal.org_id, scenario_id, active)

    async def ActivateScenario(
        self, request: pb.ActivateScenarioRequest, context: Context
    ) -> pb.ActivateScenarioResponse:
        record = await self._set_active(context, request.scenario_id, True)
        if self._parked is not None and self._producer is not None:
            try:
                await release_parked(self._parked, self._producer, record.org_id, record.id)
            except BusError:
                await abort(
                    context,
                    grpc.StatusCode.UNAVAILABLE,
                    "activated, but queued runs could not all be released; activate again",
                )
        return pb.ActivateScenarioResponse(scenario=scenario_message(record))

    async def DeactivateScenario(
        self, request: pb.DeactivateScenarioRequest, context: Context
    ) -> pb.DeactivateScenarioResponse:
        record = await self._set_active(context, request.scenario_id, False)
        return pb.DeactivateScenarioResponse(scenario=scenario_message(record))

    async def ValidateScenario(
        self, request: pb.ValidateScenarioRequest, context: Context
    ) -> pb.ValidateScenarioResponse:
        try:
            parse_document(request.document)
        except ScenarioValidationError as exc:
            return pb.ValidateScenarioResponse(
                issues=[
                    scenario_pb2.ValidationIssue(
                        module_id=i.module_id, path=i.path, message=i.message
                    )
                    for i in exc.issues
                ]
            )
        return pb.ValidateScenarioResponse()
