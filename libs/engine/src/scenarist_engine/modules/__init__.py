"""Built-in module kinds. Each kind is defined once, in the module for its family."""

from __future__ import annotations

from scenarist_engine.modules import (  # noqa: F401 - imported to register
    aggregators,
    data,
    flow_control,
    text,
    tools,
)
from scenarist_engine.modules.base import (
    Bundle,
    ModuleCall,
    ModuleFunction,
    ModuleKind,
    ModuleOutput,
    Role,
)
from scenarist_engine.modules.registry import BUILTIN_KINDS, kind_named

__all__ = [
    "BUILTIN_KINDS",
    "Bundle",
    "ModuleCall",
    "ModuleFunction",
    "ModuleKind",
    "ModuleOutput",
    "Role",
    "kind_named",
]
