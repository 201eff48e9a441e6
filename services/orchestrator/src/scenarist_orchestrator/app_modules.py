"""App modules (the connector registry's) as the engine sees them: kinds executors hand to the
connector gateway.

The registry is read once per process from the installed connectors' entry points; its modules
join the built-in kinds both for validating documents and for planning runs. A built-in kind of
the same name wins, as it does in the executor.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

from scenarist_connector_sdk import ModuleKind as AppModuleKind
from scenarist_connector_sdk import Registry
from scenarist_engine.modules import BUILTIN_KINDS, ModuleKind, Role

log = logging.getLogger(__name__)

_ROLES = {
    AppModuleKind.ACTION: Role.ACTION,
    AppModuleKind.SEARCH: Role.ACTION,  # one bundle per result, like any action's 0..n
    AppModuleKind.TRIGGER: Role.TRIGGER,
    AppModuleKind.INSTANT_TRIGGER: Role.TRIGGER,
}


def kinds_from(registry: Registry) -> dict[str, ModuleKind]:
    kinds: dict[str, ModuleKind] = {}
    for app in registry.list_apps():
        connector = registry.connector(str(app["name"]))
        for module in connector.modules.values():
            name = f"{connector.spec.name}:{module.spec.name}"
            if name not in BUILTIN_KINDS:
                kinds[name] = ModuleKind(
                    name, _ROLES[module.spec.kind], title=module.spec.label or module.spec.name
                )
    return kinds


@functools.cache
def app_kinds() -> Mapping[str, ModuleKind]:
    """Every installed app module, by ``app:Module``; loaded on first use."""
    registry = Registry.from_entry_points()
    for name, problem in registry.failures.items():
        log.error("connector not loaded", extra={"connector": name, "problem": problem})
    return kinds_from(registry)


def known_modules() -> frozenset[str]:
    return frozenset(BUILTIN_KINDS) | frozenset(app_kinds())
