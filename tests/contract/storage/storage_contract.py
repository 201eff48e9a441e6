"""What the contract tests get from the `stores` fixture (a plain module, not a package, so the
test directories need no __init__.py)."""

from __future__ import annotations

from dataclasses import dataclass

from scenarist_storage.ports import (
    ConnectionStore,
    DataStoreStore,
    IdentityStore,
    LogStore,
    RunStore,
    ScenarioStore,
    WebhookStore,
)
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
    webhooks: WebhookStore | None = None  # trigger schema; set by the `stores` fixture
    # Connector gateway stores; keyword-only in the fixture so existing suites are untouched.
    connections: ConnectionStore | None = None
    data_stores: DataStoreStore | None = None
