"""The table of built-in module kinds, keyed by every name they answer to."""

from __future__ import annotations

from scenarist_engine.modules.base import ModuleKind

BUILTIN_KINDS: dict[str, ModuleKind] = {}


def register(kind: ModuleKind) -> ModuleKind:
    for name in (kind.name, *kind.aliases):
        if name in BUILTIN_KINDS:
            raise ValueError(f"module kind {name!r} registered twice")
        BUILTIN_KINDS[name] = kind
    return kind


def kind_named(name: str) -> ModuleKind | None:
    return BUILTIN_KINDS.get(name)
