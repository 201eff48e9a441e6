"""App modules (the connector registry's) as the engine sees them: kinds executors hand to the
connector gateway.

The registry is read once per process from the installed connectors' entry points; its modules
join the built-in kinds both for validating documents and for planning runs. A built-in kind of
the same name wins, as it does in the executor. Gateway-native apps (the data store modules,
which run on the gateway's own stores) are not connector packages: their specs come from
``scenarist_connectors.datastore_spec``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Mapping

from scenarist_connector_sdk import AppSpec, ModuleSpec, Registry
from scenarist_connector_sdk import ModuleKind as AppModuleKind
from scenarist_connectors import datastore_spec
from scenarist_engine.modules import BUILTIN_KINDS, ModuleKind, Role

log = logging.getLogger(__name__)

_ROLES = {
    AppModuleKind.ACTION: Role.ACTION,
    AppModuleKind.SEARCH: Role.ACTION,  # one bundle per result, like any action's 0..n
    AppModuleKind.TRIGGER: Role.TRIGGER,
    AppModuleKind.INSTANT_TRIGGER: Role.TRIGGER,
}


# Apps the connector gateway runs itself: (app, its modules), declared without code.
GATEWAY_NATIVE: tuple[tuple[AppSpec, tuple[ModuleSpec, ...]], ...] = (
    (datastore_spec.APP, datastore_spec.MODULES),
)


def kinds_of(app: AppSpec, modules: Iterable[ModuleSpec]) -> dict[str, ModuleKind]:
    kinds: dict[str, ModuleKind] = {}
    for module in modules:
        name = f"{app.name}:{module.name}"
        if name not in BUILTIN_KINDS:
            kinds[name] = ModuleKind(name, _ROLES[module.kind], title=module.label or module.name)
    return kinds


def kinds_from(registry: Registry) -> dict[str, ModuleKind]:
    kinds: dict[str, ModuleKind] = {}
    for described in registry.list_apps():
        connector = registry.connector(str(described["name"]))
        kinds.update(kinds_of(connector.spec, (m.spec for m in connector.modules.values())))
    return kinds


# The directory of the operator's OpenAPI documents (scenarist_connectors.openapi, read by its
# entry point): the registry depends on it, so it keys the cache below.
OPENAPI_SPECS_ENV = "SCENARIST_OPENAPI_SPECS"


def app_kinds() -> Mapping[str, ModuleKind]:
    """Every installed app module, by ``app:Module``; loaded on first use, and again when the
    OpenAPI documents directory differs (a process hosting stacks one after another, as the
    integration tests do, must not keep the first one's imported apps)."""
    return _app_kinds(os.environ.get(OPENAPI_SPECS_ENV, ""))


@functools.cache
def _app_kinds(openapi_specs: str) -> Mapping[str, ModuleKind]:
    registry = Registry.from_entry_points()
    for name, problem in registry.failures.items():
        log.error("connector not loaded", extra={"connector": name, "problem": problem})
    kinds: dict[str, ModuleKind] = {}
    for app, modules in GATEWAY_NATIVE:
        kinds.update(kinds_of(app, modules))
    return kinds | kinds_from(registry)


def known_modules() -> frozenset[str]:
    return frozenset(BUILTIN_KINDS) | frozenset(app_kinds())


def secret_inputs(kind: str) -> frozenset[str]:
    """Inputs an app module marks secret (e.g. an incoming-webhook URL): masked in run logs."""
    return _secret_inputs(os.environ.get(OPENAPI_SPECS_ENV, "")).get(kind, frozenset())


@functools.cache
def _secret_inputs(openapi_specs: str) -> Mapping[str, frozenset[str]]:
    registry = Registry.from_entry_points()
    found: dict[str, frozenset[str]] = {}
    for app in registry.list_apps():
        connector = registry.connector(str(app["name"]))
        for module in connector.modules.values():
            names = frozenset(field.name for field in module.spec.inputs if field.secret)
            if names:
                found[f"{connector.spec.name}:{module.spec.name}"] = names
    return found


def mask_secret_inputs(kind: str, inputs: object) -> object:
    if kind in BUILTIN_KINDS:  # a built-in kind wins over an app module of the same name
        return inputs
    secret = secret_inputs(kind)
    if not secret or not isinstance(inputs, dict):
        return inputs
    return {key: "***" if key in secret else value for key, value in inputs.items()}
