from __future__ import annotations

import builtins
import dataclasses
import itertools
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from scenarist_storage.claims import ClaimRef
from scenarist_storage.errors import ConflictError, IntegrityError
from scenarist_storage.memory._clock import Clock, clone, utc_now
from scenarist_storage.models import (
    RUN_STATUS_QUEUED,
    ClaimedMessage,
    JsonObject,
    NewRun,
    OutboxMessage,
    Page,
    RunRecord,
    SaveResult,
    StateWrite,
)
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_int
from scenarist_storage.runs_common import (
    check_batch,
    check_message,
    claimed_message,
    kept_messages,
)


@dataclasses.dataclass(slots=True)
class _Outbox:
    message: ClaimedMessage
    claimed_until: float | None = None  # clock timestamp (seconds)


class MemoryRunStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._runs: dict[uuid.UUID, RunRecord] = {}
        self._seq: dict[uuid.UUID, int] = {}
        self._by_key: dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID] = {}
        self._counter = itertools.count(1)
        self._outbox: dict[int, _Outbox] = {}
        self._outbox_ids = itertools.count(1)
        self._epochs = itertools.count(1)
        self._entries: dict[uuid.UUID, dict[str, Any]] = {}

    async def next_owner_epoch(self) -> int:
        return next(self._epochs)

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
        new = NewRun(
            org_id, scenario_id, version, run_id, idempotency_key, trigger, source, trigger_claim
        )
        return (await self.create_runs([new]))[0]

    async def create_runs(self, batch: Sequence[NewRun]) -> list[tuple[RunRecord, bool]]:
        # Check the whole batch first so a conflict leaves nothing behind (one transaction).
        for new in batch:
            existing = self._existing(new)
            if existing is None and new.run_id in self._runs:
                raise ConflictError(f"run id {new.run_id} is taken")
        results: list[tuple[RunRecord, bool]] = []
        for new in batch:
            existing = self._existing(new)
            if existing is not None:
                results.append((clone(existing), False))
                continue
            results.append((clone(self._insert(new)), True))
        return results

    def _insert(self, new: NewRun) -> RunRecord:
        now = self._clock()
        record = RunRecord(
            org_id=new.org_id,
            id=new.run_id,
            scenario_id=new.scenario_id,
            version=new.version,
            idempotency_key=new.idempotency_key,
            trigger=clone(new.trigger),
            source=new.source,
            trigger_claim=new.trigger_claim,
            status=RUN_STATUS_QUEUED,
            state={},
            operations=0,
            owner_epoch=0,
            created_at=new.created_at or now,
            updated_at=now,
        )
        self._runs[record.id] = record
        self._seq[record.id] = next(self._counter)
        if new.idempotency_key is not None:
            self._by_key[(new.org_id, new.scenario_id, new.idempotency_key)] = record.id
        return record

    def _existing(self, new: NewRun) -> RunRecord | None:
        if new.idempotency_key is not None:
            run_id = self._by_key.get((new.org_id, new.scenario_id, new.idempotency_key))
            if run_id is not None:
                return self._runs[run_id]
        same_id = self._runs.get(new.run_id)
        if same_id is not None and same_id.org_id == new.org_id:
            return same_id
        return None

    async def get(
        self, org_id: uuid.UUID, run_id: uuid.UUID, *, with_state: bool = True
    ) -> RunRecord | None:
        run = self._runs.get(run_id)
        if run is None or run.org_id != org_id:
            return None
        return clone(run) if with_state else dataclasses.replace(run, state={}, trigger={})

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        status: Sequence[str] | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[RunRecord]:
        check_page_size(page_size)
        before = token_int(decode_token("runs", page_token, 1)[0]) if page_token else None
        wanted = set(status) if status else None
        matches = sorted(
            (
                (self._seq[r.id], r)
                for r in self._runs.values()
                if r.org_id == org_id
                and (scenario_id is None or r.scenario_id == scenario_id)
                and (wanted is None or r.status in wanted)
                and (before is None or self._seq[r.id] < before)
            ),
            key=lambda pair: -pair[0],
        )
        page = matches[:page_size]
        token = encode_token("runs", [page[-1][0]]) if len(matches) > page_size else None
        return Page([clone(r) for _, r in page], token)

    async def save_states(
        self,
        batch: Sequence[StateWrite],
        outbox_messages: Sequence[OutboxMessage] = (),
        *,
        lease_seconds: float | None = None,
        published: Sequence[int] = (),
    ) -> SaveResult:
        check_batch(batch)
        for message in outbox_messages:  # validate before touching anything: all or nothing
            if not message.topic:
                raise IntegrityError("outbox message without a topic")
            check_message(message)
        accepted: list[uuid.UUID] = []
        rejected: list[uuid.UUID] = []
        now = self._clock()
        for write in batch:
            if write.create is not None:
                if write.run_id in self._runs or self._existing(write.create) is not None:
                    rejected.append(write.run_id)
                    continue
                self._insert(write.create)  # inserted queued, then written below
            run = self._runs.get(write.run_id)
            if run is None or run.org_id != write.org_id or run.owner_epoch > write.owner_epoch:
                rejected.append(write.run_id)
                continue
            self._runs[run.id] = dataclasses.replace(
                run,
                state=clone(write.state),
                status=write.status,
                operations=write.operations,
                owner_epoch=write.owner_epoch,
                updated_at=now,
            )
            entries = self._entries.setdefault(run.id, {})
            for key in write.dropped:
                entries.pop(key, None)
            entries.update(clone(dict(write.entries)))
            accepted.append(run.id)
        await self.delete_outbox(published)
        written = self._write_outbox(outbox_messages, set(rejected), lease_seconds)
        leased = tuple(written) if lease_seconds is not None else ()
        return SaveResult(tuple(accepted), tuple(rejected), len(written), leased)

    async def state_entries(self, org_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is None or run.org_id != org_id:
            return {}
        return clone(self._entries.get(run_id, {}))

    def _write_outbox(
        self,
        messages: Sequence[OutboxMessage],
        dropped: set[uuid.UUID],
        lease_seconds: float | None,
    ) -> builtins.list[ClaimedMessage]:
        until = None
        if lease_seconds is not None:
            until = (self._clock() + timedelta(seconds=lease_seconds)).timestamp()
        written = []
        for message in kept_messages(messages, dropped):
            claimed = claimed_message(next(self._outbox_ids), message)
            self._outbox[claimed.id] = _Outbox(claimed, until)
            written.append(claimed)
        return written

    async def claim_outbox(
        self, limit: int, *, lease_seconds: float = 30.0
    ) -> builtins.list[ClaimedMessage]:  # `list` is a method name here
        now = self._clock()
        until = (now + timedelta(seconds=lease_seconds)).timestamp()
        claimed: list[ClaimedMessage] = []
        for ident in sorted(self._outbox):
            if len(claimed) >= limit:
                break
            entry = self._outbox[ident]
            if entry.claimed_until is None or entry.claimed_until <= now.timestamp():
                entry.claimed_until = until
                claimed.append(entry.message)
        return claimed

    async def delete_outbox(self, ids: Sequence[int]) -> int:
        return sum(1 for ident in set(ids) if self._outbox.pop(ident, None) is not None)
