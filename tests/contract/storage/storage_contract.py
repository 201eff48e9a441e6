"""What the contract tests get from the `stores` fixture (a plain module, not a package, so the
test directories need no __init__.py)."""

from __future__ import annotations

from dataclasses import dataclass

from scenarist_storage.ports import IdentityStore, LogStore, RunStore, ScenarioStore
from scenarist_storage.postgres import Pool


@dataclass
class Stores:
    kind: str
    identity: IdentityStore
    scenarios: ScenarioStore
    runs: RunStore
    logs: LogStore
    pool: Pool | None = None
    prefix: str = ""
