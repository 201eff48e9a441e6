"""Plain, immutable records crossing the store ports (no asyncpg types leak out)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from scenarist_storage.claims import ClaimRef

T = TypeVar("T")
JsonObject = dict[str, Any]


class Role(enum.StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Organization:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is: resolved from an API token, carried into every store call as org_id."""

    org_id: uuid.UUID
    role: Role
    token_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    org_id: uuid.UUID
    id: uuid.UUID
    name: str
    version: int  # the version `document` belongs to
    latest_version: int
    document: JsonObject
    active: bool
    created_at: datetime  # of the scenario
    updated_at: datetime  # of the scenario row (new version, activation)


@dataclass(frozen=True, slots=True)
class NewRun:
    org_id: uuid.UUID
    scenario_id: uuid.UUID
    version: int
    run_id: uuid.UUID
    idempotency_key: str | None  # None: never deduplicated
    trigger: JsonObject
    source: str  # webhook, schedule, manual, api, scenario ...
    # A trigger kept in the claim store (a big webhook body): the run stores this reference
    # and `trigger` is {}. See docs/adr/0006-claim-check-store.md.
    trigger_claim: ClaimRef | None = None
    # When the run came to be, if not when it is inserted: a run inserted by its first save
    # (StateWrite.create) was created when it started, not after it.
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    org_id: uuid.UUID
    id: uuid.UUID
    scenario_id: uuid.UUID
    version: int
    idempotency_key: str | None
    trigger: JsonObject
    source: str
    status: str
    state: JsonObject  # the engine's run state, opaque to storage
    operations: int
    owner_epoch: int  # highest epoch that wrote this run (fencing token)
    created_at: datetime
    updated_at: datetime
    trigger_claim: ClaimRef | None = None  # set: the trigger is this claim's body ({} above)


RUN_STATUS_QUEUED = "queued"


@dataclass(frozen=True, slots=True)
class StateWrite:
    """One run's new state, written by the owner of the run's partition at `owner_epoch`.

    A big state (a fan-out's thousand tokens) is kept as a small `state` plus keyed entries that
    change a few at a time: `entries` are inserted or replaced and `dropped` deleted with the
    write, and only if it is accepted, so a save writes what changed instead of everything."""

    org_id: uuid.UUID
    run_id: uuid.UUID
    owner_epoch: int
    state: JsonObject
    status: str
    operations: int
    entries: Mapping[str, Any] = field(default_factory=dict)
    dropped: Sequence[str] = ()
    # A run that does not exist yet: the write inserts it (with this trigger, version and
    # source) instead of updating it, and is rejected when a run with its id or idempotency
    # key exists already; the caller then looks the run up with create_runs. A new run's row
    # and its first state in one statement: one commit instead of two per new run.
    create: NewRun | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to publish once the transaction that wrote it commits. With `run_id` set it is
    dropped when that run's state write in the same batch is rejected (a fenced-off owner's
    messages vanish with its state)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()
    run_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int  # increasing in write order; pass back to delete_outbox after publishing
    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    run_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class SaveResult:
    accepted: tuple[uuid.UUID, ...]
    rejected: tuple[uuid.UUID, ...]  # stale epoch, or no such run in that org
    outbox_written: int
    # With save_states(lease_seconds=...): the messages written, already leased to the caller,
    # in write order, for it to publish and hand back through `published` or delete_outbox.
    leased: tuple[ClaimedMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One module run on one bundle (one attempt), as the log service keeps it."""

    org_id: uuid.UUID
    run_id: uuid.UUID
    task_id: str
    attempt: int
    module_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    data: JsonObject = field(default_factory=dict)  # input/output bundles, error, operations


@dataclass(frozen=True, slots=True)
class RunSummary:
    org_id: uuid.UUID
    run_id: uuid.UUID
    scenario_id: uuid.UUID
    status: str
    operations: int
    started_at: datetime
    finished_at: datetime | None
    updated_at: datetime  # event time; an older event never overwrites a newer one
    error: JsonObject | None = None
    scenario_version: int = 0


@dataclass(frozen=True, slots=True)
class RetentionResult:
    steps: int
    runs: int


def freeze_headers(
    headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes],
) -> tuple[tuple[str, bytes], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), bytes(v)) for k, v in items)
