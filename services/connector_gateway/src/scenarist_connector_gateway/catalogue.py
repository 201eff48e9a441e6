"""The app catalogue: the engine's built-in module kinds, grouped into apps by the part of the
kind before ':' ("util:SetVariable2" is module "SetVariable2" of app "util"); the connector
registry's apps join it in apps.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from scenarist.connector.v1.app_pb2 import App, Module, ModuleKind
from scenarist_engine.modules import BUILTIN_KINDS, Role
from scenarist_engine.modules import ModuleKind as EngineKind

BUILTIN_VERSION = "1.0.0"
_LABELS = {
    "builtin": "Flow control",
    "util": "Tools",
    "json": "JSON",
    "gateway": "Webhooks",
    "scenarist": "Scenarist",
}
_INSTANT = frozenset({"gateway:CustomWebHook"})


@dataclass(frozen=True)
class Catalogue:
    apps: tuple[App, ...]
    modules: Mapping[str, tuple[Module, ...]]  # by app name, each sorted by module name

    def module_names(self) -> frozenset[str]:
        return frozenset(f"{app}:{m.name}" for app, mods in self.modules.items() for m in mods)


def _kind(kind: EngineKind) -> ModuleKind.ValueType:
    if kind.role is Role.TRIGGER:
        if kind.name in _INSTANT:
            return ModuleKind.MODULE_KIND_INSTANT_TRIGGER
        return ModuleKind.MODULE_KIND_TRIGGER
    return ModuleKind.MODULE_KIND_ACTION


def _module(app: str, name: str, kind: EngineKind) -> Module:
    where = "the scenario engine" if kind.inline else "an executor"
    return Module(
        app=app,
        name=name,
        label=kind.title or name,
        description=f"Built-in {kind.role.value} module; runs in {where}.",
        kind=_kind(kind),
    )


def builtin_catalogue() -> Catalogue:
    """One module per canonical kind (aliases such as util:SetVariable are not listed twice)."""
    modules: dict[str, dict[str, Module]] = {}
    for kind in {id(k): k for k in BUILTIN_KINDS.values()}.values():
        app, _, name = kind.name.partition(":")
        modules.setdefault(app, {})[name] = _module(app, name, kind)
    apps = tuple(
        App(
            name=app,
            label=_LABELS.get(app, app),
            version=BUILTIN_VERSION,
            description=f"Built-in modules: {', '.join(sorted(mods))}.",
        )
        for app, mods in sorted(modules.items())
    )
    return Catalogue(
        apps, {app: tuple(mods[n] for n in sorted(mods)) for app, mods in modules.items()}
    )
