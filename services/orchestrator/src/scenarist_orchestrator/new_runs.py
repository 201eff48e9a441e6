"""New runs, before they start: a batch's run requests planned (the scenario version each runs,
its trigger, whether it resumes a parked bundle), and a run's first steps."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import envelope
from scenarist_bus.envelope import Decoded
from scenarist_bus.port import Record
from scenarist_engine.machine import (
    IncompleteExecution,
    ModuleTask,
    Plan,
    RunState,
    start_run,
    trigger_batches,
)
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_storage.errors import StorageError
from scenarist_storage.models import NewRun
from scenarist_storage.ports import RunStore

from scenarist_orchestrator import claimed
from scenarist_orchestrator.parking import DROPPED_SOURCES, Parking
from scenarist_orchestrator.plans import PlanCache, ScenarioNotFoundError
from scenarist_orchestrator.resume import parked_execution

log = logging.getLogger(__name__)

# (org, scenario) -> the latest version's plan, its version and whether it is active.
LatestPlans = dict[tuple[uuid.UUID, uuid.UUID], tuple[Plan, int, bool]]
SOURCES = {1: "webhook", 2: "manual", 3: "api", 4: "schedule", 5: "poll", 6: "scenario"}


@dataclass
class Planned:
    request: RunRequested
    new_run: NewRun
    plan: Plan
    active: bool
    resume: IncompleteExecution | None = None  # a retry of a parked bundle starts there
    trigger: Any = None  # the parsed trigger bundle (parsed once: it may be megabytes)


Begun = tuple[float, RunState, list[ModuleTask]]  # a run's first steps: (now, state, tasks)


class RunPlanner:
    def __init__(
        self,
        runs: RunStore,
        plans: PlanCache,
        parking: Parking | None,
        claims: ClaimChecks | None,
    ) -> None:
        self._runs = runs
        self._plans = plans
        self._parking = parking
        self._claims = claims

    async def plan(
        self, requests: list[Decoded], dead_letters: list[tuple[Record, str]]
    ) -> dict[str, Planned]:
        """The batch's run requests, planned by run id (the first of a run id wins); a request
        that cannot start is dead-lettered, a schedule of an inactive scenario dropped."""
        planned: dict[str, Planned] = {}
        latest: LatestPlans = {}
        for decoded in requests:
            request = envelope.payload_as(decoded, RunRequested)
            try:
                item = await self._new_run(request, latest)
            except (ValueError, ScenarioNotFoundError, StorageError) as exc:
                dead_letters.append((decoded.record, f"cannot start run: {exc}"))
                continue
            if not item.active and request.source in DROPPED_SOURCES:
                log.info("schedule fired for an inactive scenario; dropped")
                continue
            planned.setdefault(request.run_id, item)
        return planned

    async def _new_run(self, request: RunRequested, latest: LatestPlans) -> Planned:
        """`latest`: the scenarios' latest plans already read in this batch (a webhook under
        load brings many requests for one scenario per batch; one read serves them all)."""
        org_id = uuid.UUID(request.organization_id)
        scenario_id = uuid.UUID(request.scenario_id)
        active = True
        if self._parking is not None and request.scenario_version == 0:
            found = latest.get((org_id, scenario_id))
            if found is None:
                found = await self._plans.latest(org_id, scenario_id)
                latest[(org_id, scenario_id)] = found
            plan, version, active = found
        else:
            plan, version = await self._plans.get(org_id, scenario_id, request.scenario_version)
        resume = await parked_execution(self._runs, org_id, request)
        # A claim-checked trigger stays in the claim store: the run keeps the reference, not
        # a second copy of a body that may be megabytes (docs/adr/0006-claim-check-store.md).
        claim = claimed.trigger_claim_of(request)
        trigger: Any = None
        if claim is None or resume is None:
            # A resumed run starts from its parked bundle and never reads its trigger: a claim
            # that expired since must not stop the retry.
            trigger = await claimed.trigger_of(request, self._claims)
        new_run = NewRun(
            org_id=org_id,
            scenario_id=scenario_id,
            version=version,
            run_id=uuid.UUID(request.run_id),
            idempotency_key=request.idempotency_key or None,
            trigger={} if claim is not None else _as_object(trigger),
            source=SOURCES.get(request.source, "api"),
            trigger_claim=claim,
        )
        return Planned(request, new_run, plan, active, resume, trigger)


def begin(item: Planned, now: float) -> Begun:
    """The run's first steps (pure: nothing is kept until the processor starts the run)."""
    state, tasks = start_run(
        item.plan,
        run_id=str(item.new_run.run_id),
        scenario_id=str(item.new_run.scenario_id),
        now=now,
        # A resumed run is one cycle from the parked module: no trigger batches to replay.
        trigger=None if item.resume else trigger_batches(item.trigger),
        resume=item.resume,
    )
    return now, state, tasks


def is_fresh(item: Planned) -> bool:
    """A trigger's request (the latest version, an active scenario, no parked bundle to resume):
    its run does not exist yet unless the request was delivered before. The API and retries
    create their runs first, pinned to a version."""
    return item.active and item.resume is None and item.request.scenario_version == 0


def _as_object(trigger: Any) -> dict[str, Any]:
    return trigger if isinstance(trigger, dict) else {"value": trigger}
