"""Scenario versions prepared for the state machine, cached: versions never change."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Mapping

from scenarist_engine.machine import Plan
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.modules import ModuleKind
from scenarist_storage.models import ScenarioRecord
from scenarist_storage.ports import ScenarioStore

PlanKey = tuple[uuid.UUID, int]


class ScenarioNotFoundError(LookupError):
    pass


class PlanCache:
    """(scenario, version) -> Plan in a bounded LRU; "latest" lookups always ask the store."""

    def __init__(
        self,
        scenarios: ScenarioStore,
        capacity: int = 1024,
        external: Mapping[str, ModuleKind] | None = None,
    ) -> None:
        self._scenarios = scenarios
        # App modules: tasks like any other for the state machine, run by the gateway.
        self._external = dict(external or {})
        self._plans: OrderedDict[PlanKey, Plan] = OrderedDict()
        self._capacity = capacity

    async def get(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, version: int
    ) -> tuple[Plan, int]:
        """The plan and its version; version 0 means the latest."""
        key = (scenario_id, version)
        cached = self._plans.get(key) if version else None
        if cached is not None:
            self._plans.move_to_end(key)
            return cached, version
        record = await self._scenarios.get(
            org_id, scenario_id, version or None, include_deleted=bool(version)
        )
        if record is None:
            raise ScenarioNotFoundError(f"scenario {scenario_id} version {version or 'latest'}")
        return self._plan(record), record.version

    async def latest(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> tuple[Plan, int, bool]:
        """The latest version's plan, its version, and whether the scenario is active (read
        afresh every time: activation does not make a new version)."""
        record = await self._scenarios.get(org_id, scenario_id, None)
        if record is None:
            raise ScenarioNotFoundError(f"scenario {scenario_id} version latest")
        return self._plan(record), record.version, record.active

    def _plan(self, record: ScenarioRecord) -> Plan:
        key = (record.id, record.version)
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan.build(scenario_from_data(record.document), self._external)
            self._plans[key] = plan
            if len(self._plans) > self._capacity:
                self._plans.popitem(last=False)
        return plan
