"""The store ports. Each has a Postgres and an in-memory implementation that pass one contract
suite (tests/contract/storage). Every tenant-owned object is addressed with its org id; another
organization's object is indistinguishable from a missing one (None / NotFoundError)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from scenarist_storage.models import (
    ClaimedMessage,
    JsonObject,
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


class IdentityStore(Protocol):
    async def create_organization(self, name: str) -> Organization: ...

    async def get_organization(self, org_id: uuid.UUID) -> Organization | None: ...

    async def create_token(self, org_id: uuid.UUID, role: Role, name: str) -> tuple[uuid.UUID, str]:
        """(token id, secret). The secret is returned only here; only its hash is kept.
        Raises NotFoundError for an unknown organization."""
        ...

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal of a live token, None for unknown, malformed or revoked ones."""
        ...

    async def revoke_token(self, org_id: uuid.UUID, token_id: uuid.UUID) -> None:
        """Idempotent for this org's tokens; NotFoundError for others."""
        ...

    async def list_tokens(self, org_id: uuid.UUID) -> list[TokenInfo]: ...


class ScenarioStore(Protocol):
    async def create(
        self, org_id: uuid.UUID, name: str, document: JsonObject
    ) -> ScenarioRecord: ...

    async def new_version(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        document: JsonObject,
        *,
        name: str | None = None,
        expected_version: int | None = None,
    ) -> ScenarioRecord:
        """Version n+1. NotFoundError if missing/deleted; ConflictError if `expected_version` is
        given and is not the latest (optimistic concurrency for editors)."""
        ...

    async def get(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        version: int | None = None,
        *,
        include_deleted: bool = False,
    ) -> ScenarioRecord | None:
        """The latest (or the given) version. `include_deleted` lets in-flight runs of a deleted
        scenario still load their version."""
        ...

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        page_size: int = 50,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Page[ScenarioRecord]:
        """Latest versions ordered by (name, id), case-insensitive substring filter on name."""
        ...

    async def delete(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> None:
        """Soft delete: afterwards the scenario is not found (except get(include_deleted=True))
        and is deactivated. NotFoundError if already missing."""
        ...

    async def set_active(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, active: bool
    ) -> ScenarioRecord: ...


class RunStore(Protocol):
    async def next_owner_epoch(self) -> int:
        """A fencing token larger than every one handed out before, to anyone."""
        ...

    async def create_run(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        version: int,
        run_id: uuid.UUID,
        *,
        idempotency_key: str | None,
        trigger: JsonObject,
        source: str,
    ) -> tuple[RunRecord, bool]:
        """(run, created). The same (scenario, idempotency key) or the same run id returns the
        existing run with created=False."""
        ...

    async def create_runs(self, batch: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """create_run for a batch in one transaction; results in input order."""
        ...

    async def get(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunRecord | None: ...

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        status: Sequence[str] | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[RunRecord]:
        """Newest first."""
        ...

    async def save_states(
        self, batch: Sequence[StateWrite], outbox_messages: Sequence[OutboxMessage] = ()
    ) -> SaveResult:
        """One transaction: each write applies only if the run exists in its org and the stored
        owner_epoch <= the write's (then the stored epoch becomes the write's); messages are
        written unless they name a run whose write was rejected. Any error: nothing changes.
        A run may appear at most once per batch (ValueError)."""
        ...

    async def claim_outbox(
        self, limit: int, *, lease_seconds: float = 30.0
    ) -> builtins.list[ClaimedMessage]:  # `list` is a method name here
        """Up to `limit` unclaimed (or lease-expired) messages, oldest first, leased to the caller
        for `lease_seconds`; a relay that dies before delete_outbox lets them come back."""
        ...

    async def delete_outbox(self, ids: Sequence[int]) -> int: ...


class LogStore(Protocol):
    async def append_steps(self, batch: Sequence[StepRecord]) -> int:
        """Insert new steps; an already stored (run_id, task_id, attempt) is left unchanged.
        Returns how many were new."""
        ...

    async def get_run_steps(self, org_id: uuid.UUID, run_id: uuid.UUID) -> list[StepRecord]:
        """Ordered by (started_at, task_id, attempt)."""
        ...

    async def upsert_run_summary(self, summary: RunSummary) -> bool:
        """Store unless a summary with a newer updated_at is already there (events may arrive out
        of order). True if stored."""
        ...

    async def get_run_summary(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunSummary | None: ...

    async def delete_older_than(self, ts: datetime) -> RetentionResult:
        """Retention: steps started before `ts` and summaries last updated before `ts`."""
        ...
