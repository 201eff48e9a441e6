"""Semantic validation of a loaded scenario: the rules a well-typed document can still break.

Every rule runs and every issue is reported, each with the module id and a field path such as
`flow[1].routes[0].flow[0].mapper.email`, so a builder can fix the whole document in one go.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from scenarist_engine.errors import ExpressionError, ScenarioValidationError, ValidationIssue
from scenarist_engine.filters import OPERATORS
from scenarist_engine.iml import parse_template, referenced_module_ids
from scenarist_engine.model.loading import format_path
from scenarist_engine.model.scenario import Filter, Module, Scenario
from scenarist_engine.modules import BUILTIN_KINDS, Role


def _kinds(role: Role) -> frozenset[str]:
    # Roles come from the module registry, the one place each kind is defined.
    return frozenset(name for name, kind in BUILTIN_KINDS.items() if kind.role is role)


ROUTERS = _kinds(Role.ROUTER)
DIRECTIVES = _kinds(Role.DIRECTIVE)
AGGREGATORS = _kinds(Role.AGGREGATOR)
_EXPRESSION_FIELDS = ("parameters", "mapper", "flags")


def validate_or_raise(scenario: Scenario, known_modules: Collection[str] | None = None) -> Scenario:
    """The scenario itself when valid, else ScenarioValidationError with every issue."""
    issues = validate_scenario(scenario, known_modules=known_modules)
    if issues:
        raise ScenarioValidationError(issues)
    return scenario


def validate_scenario(
    scenario: Scenario, *, known_modules: Collection[str] | None = None
) -> list[ValidationIssue]:
    """Every semantic issue in the scenario (an empty list means valid)."""
    checker = _Checker(scenario, known_modules)
    checker.check_trigger(scenario.trigger)
    checker.check_flow(scenario.flow, "flow", _Upstream(), in_handler=False)
    return checker.issues


@dataclass(frozen=True)
class _Upstream:
    """The modules whose output a module can read: its ancestors on the path from the trigger.

    `hidden` maps a module id to the aggregator that consumed its bundles: after an aggregator,
    the source module and everything between it and the aggregator are no longer available.
    """

    ids: tuple[int, ...] = ()
    hidden: Mapping[int, int] = field(default_factory=dict)

    def then(self, module: Module) -> _Upstream:
        return _Upstream((*self.ids, module.id), self.hidden)

    def after_aggregator(self, aggregator: Module, feeder: int) -> _Upstream:
        start = self.ids.index(feeder)
        consumed = dict.fromkeys(self.ids[start:], aggregator.id)
        return _Upstream((*self.ids[:start], aggregator.id), {**self.hidden, **consumed})


class _Checker:
    def __init__(self, scenario: Scenario, known_modules: Collection[str] | None) -> None:
        self.issues: list[ValidationIssue] = []
        self.known = None if known_modules is None else frozenset(known_modules)
        self.all_ids = {module.id for module in scenario.walk()}
        self.seen: dict[int, str] = {}

    def report(self, path: str, message: str, module: Module | None) -> None:
        module_id = None if module is None else module.id
        self.issues.append(ValidationIssue(path=path, message=message, module_id=module_id))

    # --- structure ----------------------------------------------------------------------------

    def check_trigger(self, trigger: Module) -> None:
        if trigger.filter is not None:
            self.report("flow[0].filter", "the trigger cannot have a filter", trigger)
        if trigger.module in ROUTERS or trigger.module in DIRECTIVES | AGGREGATORS:
            self.report("flow[0].module", f"{trigger.module} cannot be the trigger", trigger)

    def check_flow(
        self, flow: list[Module], path: str, upstream: _Upstream, *, in_handler: bool
    ) -> None:
        for index, module in enumerate(flow):
            here = f"{path}[{index}]"
            is_last = index == len(flow) - 1
            self.check_module(module, here, in_handler=in_handler, is_last=is_last)
            self.check_expressions(module, here, upstream)
            upstream = self.advance(module, here, upstream)
            for number, route in enumerate(module.routes):
                route_path = f"{here}.routes[{number}].flow"
                self.check_flow(route.flow, route_path, upstream, in_handler=in_handler)
            # In a handler the failing module's own output (and error) is readable.
            self.check_flow(module.onerror, f"{here}.onerror", upstream, in_handler=True)

    def check_module(self, module: Module, path: str, *, in_handler: bool, is_last: bool) -> None:
        if module.id in self.seen:
            self.report(
                f"{path}.id", f"id {module.id} is also used at {self.seen[module.id]}", module
            )
        else:
            self.seen[module.id] = path
        if self.known is not None and module.module not in self.known:
            self.report(f"{path}.module", f"unknown module kind {module.module!r}", module)
        if module.module in ROUTERS:
            self.check_router(module, path, is_last=is_last)
        elif module.routes:
            self.report(f"{path}.routes", "only a router (builtin:BasicRouter) has routes", module)
        self.check_handler(module, path, in_handler=in_handler)
        if module.module in DIRECTIVES:
            self.check_directive(module, path, in_handler=in_handler, is_last=is_last)
        self.check_retry(module, path)

    def check_router(self, module: Module, path: str, *, is_last: bool) -> None:
        if not module.routes:
            self.report(f"{path}.routes", "a router needs at least one route", module)
        if sum(route.fallback for route in module.routes) > 1:
            self.report(f"{path}.routes", "a router has at most one fallback route", module)
        for number, route in enumerate(module.routes):
            if not route.flow:
                self.report(f"{path}.routes[{number}].flow", "a route needs a module", module)
        if not is_last:
            self.report(path, "a router ends its flow: put the next modules in its routes", module)

    def check_handler(self, module: Module, path: str, *, in_handler: bool) -> None:
        if not module.onerror:
            return
        where = f"{path}.onerror"
        if module.module in ROUTERS:
            self.report(where, "a router cannot have an error handler", module)
        elif module.module in DIRECTIVES:
            self.report(where, "an error directive cannot have an error handler", module)
        elif in_handler:
            self.report(where, "a module inside an error handler cannot have its own", module)

    def check_directive(
        self, module: Module, path: str, *, in_handler: bool, is_last: bool
    ) -> None:
        if not in_handler:
            self.report(
                f"{path}.module", f"{module.module} is only allowed in an error handler", module
            )
        elif not is_last:
            self.report(path, f"{module.module} must be the last module of its flow", module)

    def check_retry(self, module: Module, path: str) -> None:
        retry = module.retry
        if retry is None:
            return
        if module.module in ROUTERS or module.module in DIRECTIVES:
            self.report(
                f"{path}.retry", f"{module.module} does not run, so it cannot retry", module
            )
        if retry.max_interval_seconds < retry.initial_interval_seconds:
            self.report(
                f"{path}.retry.max_interval_seconds",
                "must be at least initial_interval_seconds",
                module,
            )

    # --- aggregators ----------------------------------------------------------------------------

    def advance(self, module: Module, path: str, upstream: _Upstream) -> _Upstream:
        """The upstream set for the modules after this one."""
        if module.module not in AGGREGATORS:
            return upstream.then(module)
        feeder = _feeder_id(module.parameters.get("feeder"))
        where = f"{path}.parameters.feeder"
        if feeder is None:
            self.report(where, "an aggregator needs the id of its source module", module)
        elif feeder not in upstream.ids:
            self.report(where, f"source module {feeder} is not upstream on this path", module)
        else:
            return upstream.after_aggregator(module, feeder)
        return upstream.then(module)

    # --- expressions --------------------------------------------------------------------------

    def check_expressions(self, module: Module, path: str, upstream: _Upstream) -> None:
        for name in _EXPRESSION_FIELDS:
            for sub_path, text in _strings(getattr(module, name), [name]):
                self.check_template(text, format_path(sub_path, path), module, upstream)
        if module.filter is not None:
            self.check_filter(module.filter, f"{path}.filter", module, upstream)

    def check_filter(self, filter_: Filter, path: str, module: Module, upstream: _Upstream) -> None:
        for group_index, group in enumerate(filter_.conditions):
            for index, condition in enumerate(group):
                here = f"{path}.conditions[{group_index}][{index}]"
                if condition.o not in OPERATORS:
                    self.report(f"{here}.o", f"unknown filter operator {condition.o!r}", module)
                for side in ("a", "b"):
                    for sub_path, text in _strings(getattr(condition, side), [side]):
                        where = format_path(sub_path, here)
                        self.check_template(text, where, module, upstream)

    def check_template(self, text: str, path: str, module: Module, upstream: _Upstream) -> None:
        try:
            parse_template(text)
            references = referenced_module_ids(text)
        except ExpressionError as error:
            where = "" if error.position is None else f" at position {error.position}"
            self.report(path, f"{error.message}{where}", module)
            return
        for reference in sorted(references):
            message = self.reference_problem(reference, upstream)
            if message is not None:
                self.report(path, message, module)

    def reference_problem(self, reference: int, upstream: _Upstream) -> str | None:
        if reference in upstream.ids:
            return None
        if reference in upstream.hidden:
            aggregator = upstream.hidden[reference]
            return f"module {reference}'s bundles were aggregated by module {aggregator}"
        if reference not in self.all_ids:
            return f"refers to module {reference}, which does not exist"
        return f"refers to module {reference}, which is not upstream of this module"


def _feeder_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _strings(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """Every string inside a JSON-like value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, [*path, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, [*path, index])
