"""A scenario prepared for execution: modules by id, what follows what, who feeds whom."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scenarist_engine.errors import ExpressionError, ScenaristError
from scenarist_engine.iml import referenced_bundle_keys
from scenarist_engine.model import Module, Scenario
from scenarist_engine.modules import ModuleKind, Role, kind_named

ExternalKinds = dict[str, ModuleKind]
BundleKeys = dict[int, frozenset[str] | None]  # module id -> top-level keys read (None: all)


@dataclass
class Plan:
    """Lookups the state machine needs on every step, computed once per scenario version."""

    scenario: Scenario
    modules: dict[int, Module] = field(default_factory=dict)
    kinds: dict[int, ModuleKind] = field(default_factory=dict)
    next_module: dict[int, int | None] = field(default_factory=dict)
    aggregator_of_feeder: dict[int, list[int]] = field(default_factory=dict)
    feeder_of_aggregator: dict[int, int] = field(default_factory=dict)
    # Per module, what its mapper reads of each upstream bundle (see _mapper_refs).
    mapper_refs: dict[int, BundleKeys | None] = field(default_factory=dict)
    _documents: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    def module_document(self, module: Module) -> dict[str, Any]:
        """The module as JSON data for its tasks, dumped once per plan (a fan-out makes a task
        per bundle). Shared by those tasks: read-only."""
        found = self._documents.get(module.id)
        if found is None:
            found = self._documents[module.id] = module.model_dump(mode="json", by_alias=False)
        return found

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
            self.mapper_refs[module.id] = _mapper_refs(module.mapper)
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


def _mapper_refs(mapper: Any) -> BundleKeys | None:
    """Per module whose bundle the mapper reads, the top-level keys it reads (None: the whole
    bundle); None when a template does not parse (send every bundle whole).

    A task carries only these: a fan-out over a large trigger must not ship the trigger with
    every one of its thousand tasks, neither for `{{1.items}}`'s sake (the iterator is done
    with it) nor for `{{1.url}}`'s.
    """
    found: dict[int, set[str] | None] = {}
    stack = [mapper]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                read = referenced_bundle_keys(value)
            except ExpressionError:
                return None
            for module_id, keys in read.items():
                known = found.get(module_id, set())
                found[module_id] = None if keys is None or known is None else known | keys
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return {m: None if keys is None else frozenset(keys) for m, keys in found.items()}


def _resolve_kind(module: Module, external: ExternalKinds) -> ModuleKind:
    kind = external.get(module.module) or kind_named(module.module)
    if kind is None:
        raise ScenaristError(f"module {module.id}: unknown module kind {module.module!r}")
    return kind


def read_part(path: dict[int, Any], refs: BundleKeys) -> dict[int, Any]:
    """The bundles of `path` a mapper reads, each cut to the top-level keys it reads."""
    part: dict[int, Any] = {}
    for module_id, bundle in path.items():
        if module_id not in refs:
            continue
        keys = refs[module_id]
        if keys is None or not isinstance(bundle, dict):
            part[module_id] = bundle
        else:
            part[module_id] = {key: bundle[key] for key in keys if key in bundle}
    return part
