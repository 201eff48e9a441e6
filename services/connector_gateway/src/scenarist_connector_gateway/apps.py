"""Connector apps in the catalogue: the SDK registry's dicts mapped onto the proto shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scenarist.connector.v1.app_pb2 import App, Module, ModuleKind
from scenarist.connector.v1.field_pb2 import Field, FieldOption
from scenarist_connector_sdk import Registry

from scenarist_connector_gateway.catalogue import Catalogue
from scenarist_connector_gateway.connections import TYPES_BY_NAME

_KINDS: Mapping[str, ModuleKind.ValueType] = {
    "action": ModuleKind.MODULE_KIND_ACTION,
    "search": ModuleKind.MODULE_KIND_SEARCH,
    "trigger": ModuleKind.MODULE_KIND_TRIGGER,
    "instant_trigger": ModuleKind.MODULE_KIND_INSTANT_TRIGGER,
}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def field_message(data: Mapping[str, Any]) -> Field:
    default = data.get("default")
    return Field(
        name=str(data["name"]),
        label=str(data.get("label") or data["name"]),
        type=str(data.get("type") or "any"),
        required=bool(data.get("required")),
        options=[
            FieldOption(value=_json(o.get("value")), label=str(o.get("label") or ""))
            for o in data.get("options") or ()
        ],
        help=str(data.get("help") or ""),
        default="" if default is None else _json(default),
        fields=[field_message(child) for child in data.get("fields") or ()],
        multiple=bool(data.get("multiple")),
    )


def app_message(data: Mapping[str, Any]) -> App:
    kinds = [str(c.get("type")) for c in data.get("connection_types") or ()]
    return App(
        name=str(data["name"]),
        label=str(data.get("label") or data["name"]),
        version=str(data.get("version") or ""),
        description=str(data.get("description") or ""),
        # "none" is the absence of a connection, not a type the proto names.
        connection_types=[TYPES_BY_NAME[k] for k in kinds if k in TYPES_BY_NAME],
    )


def module_message(data: Mapping[str, Any]) -> Module:
    return Module(
        app=str(data["app"]),
        name=str(data["name"]),
        label=str(data.get("label") or data["name"]),
        description=str(data.get("description") or ""),
        kind=_KINDS.get(str(data.get("kind")), ModuleKind.MODULE_KIND_ACTION),
        inputs=[field_message(f) for f in data.get("inputs") or ()],
        outputs=[field_message(f) for f in data.get("outputs") or ()],
        connection_required=bool(data.get("connection_required")),
    )


def with_apps(builtin: Catalogue, registry: Registry) -> Catalogue:
    """The built-in catalogue plus every registered app (latest version).

    An app name both sides use (say a connector "json" next to the engine's json:ParseJSON)
    lists the modules of both; a built-in module of the same name wins, as in the executor,
    which runs built-in kinds itself.
    """
    apps = {app.name: app for app in builtin.apps}
    modules = {name: {m.name: m for m in mods} for name, mods in builtin.modules.items()}
    for described in registry.list_apps():
        name = str(described["name"])
        apps.setdefault(name, app_message(described))
        own = modules.setdefault(name, {})
        for module in registry.list_modules(name):
            own.setdefault(str(module["name"]), module_message(module))
    return Catalogue(
        tuple(apps[name] for name in sorted(apps)),
        {name: tuple(mods[m] for m in sorted(mods)) for name, mods in modules.items()},
    )


def app_module_names(registry: Registry) -> frozenset[str]:
    """``app:Module`` of every registered module, as scenario documents name them."""
    return frozenset(
        f"{app['name']}:{module['name']}"
        for app in registry.list_apps()
        for module in registry.list_modules(str(app["name"]))
    )
