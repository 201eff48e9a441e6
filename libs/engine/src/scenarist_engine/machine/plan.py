"""A scenario prepared for execution: modules by id, what follows what, who feeds whom."""

from __future__ import annotations

from dataclasses import dataclass, field

from scenarist_engine.errors import ScenaristError
from scenarist_engine.model import Module, Scenario
from scenarist_engine.modules import ModuleKind, Role, kind_named

ExternalKinds = dict[str, ModuleKind]


@dataclass
class Plan:
    """Lookups the state machine needs on every step, computed once per scenario version."""

    scenario: Scenario
    modules: dict[int, Module] = field(default_factory=dict)
    kinds: dict[int, ModuleKind] = field(default_factory=dict)
    next_module: dict[int, int | None] = field(default_factory=dict)
    aggregator_of_feeder: dict[int, list[int]] = field(default_factory=dict)
    feeder_of_aggregator: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, scenario: Scenario, external: ExternalKinds | None = None) -> Plan:
        plan = cls(scenario=scenario)
        plan._index_flow(scenario.flow, external or {})
        return plan

    def _index_flow(self, flow: list[Module], external: ExternalKinds) -> None:
        for position, module in enumerate(flow):
            following = flow[position + 1].id if position + 1 < len(flow) else None
            self.modules[module.id] = module
            self.kinds[module.id] = _resolve_kind(module, external)
            self.next_module[module.id] = following
            if self.kinds[module.id].role is Role.AGGREGATOR:
                self._index_aggregator(module)
            for route in module.routes:
                self._index_flow(route.flow, external)
            self._index_flow(module.onerror, external)

    def _index_aggregator(self, module: Module) -> None:
        feeder = module.parameters.get("feeder")
        if not isinstance(feeder, int) or isinstance(feeder, bool):
            raise ScenaristError(f"module {module.id}: aggregator needs parameters.feeder")
        self.feeder_of_aggregator[module.id] = feeder
        self.aggregator_of_feeder.setdefault(feeder, []).append(module.id)

    def role(self, module_id: int) -> Role:
        return self.kinds[module_id].role


def _resolve_kind(module: Module, external: ExternalKinds) -> ModuleKind:
    kind = external.get(module.module) or kind_named(module.module)
    if kind is None:
        raise ScenaristError(f"module {module.id}: unknown module kind {module.module!r}")
    return kind
