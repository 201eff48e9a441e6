"""Postgres (asyncpg) pool, migrations and repositories, plus in-process stores.

Ports live in `scenarist_storage.ports`, records in `.models`, Postgres implementations in `.pg`,
in-memory ones in `.memory`. Every implementation passes tests/contract/storage."""

from __future__ import annotations

from scenarist_storage.errors import (
    ConflictError,
    IntegrityError,
    InvalidPageTokenError,
    NotFoundError,
    StorageError,
)
from scenarist_storage.models import (
    ClaimedMessage,
    NewRun,
    Organization,
    OutboxMessage,
    Page,
    Principal,
    RetentionResult,
    Role,
    RunRecord,
    RunSummary,
    SaveResult,
    ScenarioRecord,
    StateWrite,
    StepRecord,
    TokenInfo,
)
from scenarist_storage.ports import IdentityStore, LogStore, RunStore, ScenarioStore
from scenarist_storage.postgres import SERVICE_SCHEMAS, Pool, create_pool, migrate

__all__ = [
    "SERVICE_SCHEMAS",
    "ClaimedMessage",
    "ConflictError",
    "IdentityStore",
    "IntegrityError",
    "InvalidPageTokenError",
    "LogStore",
    "NewRun",
    "NotFoundError",
    "Organization",
    "OutboxMessage",
    "Page",
    "Pool",
    "Principal",
    "RetentionResult",
    "Role",
    "RunRecord",
    "RunStore",
    "RunSummary",
    "SaveResult",
    "ScenarioRecord",
    "ScenarioStore",
    "StateWrite",
    "StepRecord",
    "StorageError",
    "TokenInfo",
    "create_pool",
    "migrate",
]
