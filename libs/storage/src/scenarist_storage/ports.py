"""The store ports. Each has a Postgres and an in-memory implementation that pass one contract
suite (tests/contract/storage). Every tenant-owned object is addressed with its org id; another
organization's object is indistinguishable from a missing one (None / NotFoundError)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from scenarist_storage.claims import ClaimRef
from scenarist_storage.gateway_models import (
    ConnectionRecord,
    DataRecord,
    DataStoreInfo,
    NewConnection,
    RecordChange,
)
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

    async def first_organization(self) -> Organization | None:
        """The oldest organization, None on an empty installation (the bootstrap creates one)."""
        ...

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
        trigger_claim: ClaimRef | None = None,
    ) -> tuple[RunRecord, bool]:
        """(run, created). The same (scenario, idempotency key) or the same run id returns the
        existing run with created=False. `trigger_claim`: the trigger is kept in the claim
        store (`trigger` is then {}); the run stores the reference, never the body."""
        ...

    async def create_runs(self, batch: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        """create_run for a batch in one transaction; results in input order."""
        ...

    async def get(
        self, org_id: uuid.UUID, run_id: uuid.UUID, *, with_state: bool = True
    ) -> RunRecord | None:
        """`with_state=False`: state and trigger come back empty ({}), for callers that only
        watch status and operations (a fan-out's state can be megabytes)."""
        ...

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
        self,
        batch: Sequence[StateWrite],
        outbox_messages: Sequence[OutboxMessage] = (),
        *,
        lease_seconds: float | None = None,
        published: Sequence[int] = (),
    ) -> SaveResult:
        """One transaction: each write applies only if the run exists in its org and the stored
        owner_epoch <= the write's (then the stored epoch becomes the write's); messages are
        written unless they name a run whose write was rejected. Any error: nothing changes.
        A run may appear at most once per batch (ValueError). An accepted write also applies its
        state entries (`StateWrite.entries` replaced, `dropped` deleted); a rejected one none.
        A write with `create` inserts its run instead (as create_runs would, with the write's
        state, status, operations and epoch) and is rejected, changing nothing, when a run with
        its id (in any organization) or its idempotency key exists.

        `lease_seconds`: the written messages start leased to the caller (as claim_outbox would
        lease them) and come back in `SaveResult.leased`, so the writer publishes its own
        messages without claiming them again. `published`: outbox ids the caller has published
        since, deleted in the same transaction (delete_outbox without a round trip of its own)."""
        ...

    async def state_entries(self, org_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, Any]:
        """The run's state entries as its accepted writes left them ({} for an unknown run or
        one of another organization)."""
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

    async def upsert_run_summaries(self, batch: Sequence[RunSummary]) -> int:
        """upsert_run_summary for each, in one round trip; at most one summary per run (the
        caller collapses a batch first, ValueError otherwise). Returns how many were stored."""
        ...

    async def get_run_summary(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunSummary | None: ...

    async def delete_older_than(self, ts: datetime) -> RetentionResult:
        """Retention: steps started before `ts` and summaries last updated before `ts`."""
        ...

    async def list_run_steps(
        self,
        org_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> Page[StepRecord]:
        """get_run_steps, one keyset page at a time (same order)."""
        ...

    async def has_run(self, org_id: uuid.UUID, run_id: uuid.UUID) -> bool:
        """Whether this org's history knows the run (a summary or at least one step)."""
        ...

    async def list_run_summaries(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[RunSummary]:
        """Newest first: (started_at, run_id) descending."""
        ...

    async def delete_runs(
        self, org_id: uuid.UUID, *, finished_before: datetime, scenario_id: uuid.UUID | None = None
    ) -> RetentionResult:
        """Delete this org's runs that finished before the cutoff, with their steps; live runs
        (no finished_at) are never deleted."""
        ...


# --- webhooks (trigger service) ------------------------------------------------------------------

from scenarist_storage.webhook_models import (  # noqa: E402 - appended port, kept apart
    NewWebhook,
    WebhookAuthData,
    WebhookRecord,
)


class WebhookStore(Protocol):
    async def create(self, new: NewWebhook) -> WebhookRecord:
        """ConflictError if the id or the token hash is taken."""
        ...

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> WebhookRecord | None: ...

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        """The webhook whose URL token hashes to `token_hash`, whatever its organization: the
        public ingress only knows the URL."""
        ...

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[WebhookRecord]:
        """Newest first."""
        ...

    async def rotate(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        token: tuple[bytes, bytes] | None = None,
        auth: WebhookAuthData | None = None,
    ) -> WebhookRecord:
        """Replace the (token hash, sealed token) and/or the auth data; sets rotated_at.
        NotFoundError if missing; ConflictError if the new token hash is taken."""
        ...

    async def attach(
        self, org_id: uuid.UUID, webhook_id: uuid.UUID, scenario_id: uuid.UUID | None
    ) -> WebhookRecord:
        """Bind to a scenario, or detach with None. NotFoundError if missing."""
        ...

    async def update(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        name: str | None = None,
        options: JsonObject | None = None,
    ) -> WebhookRecord:
        """Replace the name and/or the options (None keeps them). NotFoundError if missing."""
        ...

    async def delete(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
        """NotFoundError if missing (or another organization's)."""
        ...


# --- connections and data stores (connector gateway) ---------------------------------------------


class ConnectionStore(Protocol):
    """Connections of the connector gateway; secrets arrive and leave sealed (ciphertext)."""

    async def create_connection(self, new: NewConnection) -> ConnectionRecord:
        """ConflictError if the id is taken."""
        ...

    async def get_connection(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> ConnectionRecord | None: ...

    async def list_connections(
        self,
        org_id: uuid.UUID,
        *,
        app: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ConnectionRecord]:
        """Ordered by (name, id)."""
        ...

    async def delete_connection(self, org_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        """NotFoundError if missing in this org."""
        ...

    async def connections_to_rewrap(
        self, active_key_id: str, limit: int
    ) -> builtins.list[ConnectionRecord]:
        """Up to `limit` connections (of any org) whose data key is wrapped under another key."""
        ...

    async def replace_wrapped_key(
        self, connection_id: uuid.UUID, old_key_id: str, new_key_id: str, wrapped_key: bytes
    ) -> bool:
        """Compare-and-set: store the re-wrapped data key only if the connection's key is still
        wrapped under `old_key_id` (a concurrent rewrap wins once). True if replaced."""
        ...


class DataStoreStore(Protocol):
    """Data stores and their records. Record methods raise NotFoundError when the store itself
    is missing in the org, so "no such store" and "no such record" stay distinct."""

    async def create_data_store(
        self, org_id: uuid.UUID, name: str, fields: Sequence[JsonObject], max_size_bytes: int
    ) -> DataStoreInfo:
        """ConflictError if the org already has a store with this name."""
        ...

    async def get_data_store(
        self, org_id: uuid.UUID, store_id: uuid.UUID
    ) -> DataStoreInfo | None: ...

    async def list_data_stores(
        self, org_id: uuid.UUID, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[DataStoreInfo]:
        """Ordered by (name, id)."""
        ...

    async def delete_data_store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> None:
        """Deletes the store and every record; NotFoundError if missing."""
        ...

    async def write_record(
        self,
        org_id: uuid.UUID,
        store_id: uuid.UUID,
        key: str,
        change: RecordChange,
        *,
        max_records: int,
    ) -> tuple[DataRecord, bool]:
        """(record, created): `change(current data or None)` gives the new data, atomically with
        the read. LimitExceededError if the store would exceed its size or `max_records`;
        whatever `change` raises propagates and nothing is written."""
        ...

    async def get_record(
        self, org_id: uuid.UUID, store_id: uuid.UUID, key: str
    ) -> DataRecord | None: ...

    async def delete_record(self, org_id: uuid.UUID, store_id: uuid.UUID, key: str) -> bool: ...

    async def all_records(
        self, org_id: uuid.UUID, store_id: uuid.UUID
    ) -> builtins.list[DataRecord]:
        """Every record, by key (bounded by the store's size limit)."""
        ...

    async def delete_all_records(self, org_id: uuid.UUID, store_id: uuid.UUID) -> int: ...


# --- schedules and polling triggers (trigger service) --------------------------------------------

from contextlib import AbstractAsyncContextManager  # noqa: E402 - appended port, kept apart

from scenarist_storage.schedule_models import (  # noqa: E402 - appended port, kept apart
    FireState,
    NewSchedule,
    ParkedRun,
    ScheduleDefinition,
    ScheduleRecord,
)


class ScheduleClaim(Protocol):
    """Schedules locked for one scheduler pass: no other claimer sees them until the pass ends.
    Writes made through the claim commit together when the `claim_due` block exits normally and
    are discarded when it raises."""

    @property
    def schedules(self) -> builtins.list[ScheduleRecord]: ...

    async def save(self, schedule_id: uuid.UUID, state: FireState) -> None:
        """Replace the claimed schedule's firing state."""
        ...

    async def take_budget(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, window_start: datetime, limit: int
    ) -> bool:
        """Count one run start for the scenario in the minute starting at `window_start`; False
        (and nothing counted) when `limit` starts were counted in that minute already."""
        ...


class ScheduleStore(Protocol):
    async def create(self, new: NewSchedule) -> ScheduleRecord:
        """ConflictError if the id is taken."""
        ...

    async def get(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> ScheduleRecord | None: ...

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ScheduleRecord]:
        """Newest first."""
        ...

    async def redefine(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        definition: ScheduleDefinition,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        """New definition and next due time (attempted then); cursor, seen ids and a pending
        message are kept. NotFoundError if missing."""
        ...

    async def set_paused(
        self,
        org_id: uuid.UUID,
        schedule_id: uuid.UUID,
        paused: bool,
        next_due_at: datetime | None,
    ) -> ScheduleRecord:
        """Pause, or resume from `next_due_at`. NotFoundError if missing."""
        ...

    async def delete(self, org_id: uuid.UUID, schedule_id: uuid.UUID) -> None:
        """NotFoundError if missing (or another organization's)."""
        ...

    def claim_due(
        self, now: datetime, *, limit: int, pending_before: datetime
    ) -> AbstractAsyncContextManager[ScheduleClaim]:
        """Lock up to `limit` schedules, oldest attempt first, that are either due (not paused,
        no pending message, attempt_at <= now) or hold a pending message older than
        `pending_before` (its sender presumably died). Schedules another claim holds are
        skipped, never waited for (Postgres: FOR UPDATE SKIP LOCKED)."""
        ...

    async def clear_pending(self, schedule_id: uuid.UUID, key: str) -> bool:
        """Forget the pending message if it is still the one with `key` (it was acknowledged)."""
        ...


class ParkedRunStore(Protocol):
    """The queue of an inactive scenario (orchestrator schema), in arrival order."""

    async def park(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        run_id: uuid.UUID,
        request: bytes,
        *,
        limit: int,
    ) -> bool:
        """Queue a request; False (nothing stored) when the scenario already has `limit` parked.
        Parking a run that is parked already moves it to the end and answers True."""
        ...

    async def parked(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, *, after_seq: int = 0, limit: int = 100
    ) -> builtins.list[ParkedRun]:
        """Oldest first, with seq > after_seq."""
        ...

    async def release(self, released: Sequence[ParkedRun]) -> int:
        """Remove these entries unless they were parked again since they were read."""
        ...

    async def count(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> int: ...
