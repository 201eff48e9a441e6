from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from scenarist_storage.claims import ClaimRef
from scenarist_storage.errors import ConflictError, IntegrityError
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
    freeze_headers,
)
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_int
from scenarist_storage.pg import _runs_sql as sql
from scenarist_storage.postgres import Pool, Record, qualify
from scenarist_storage.runs_common import (
    check_batch,
    check_message,
    claimed_message,
    kept_messages,
)


class PgRunStore:
    def __init__(self, pool: Pool, schema: str = "orchestrator") -> None:
        self._pool = pool
        self._q = {name: qualify(text, schema) for name, text in sql.STATEMENTS.items()}

    async def next_owner_epoch(self) -> int:
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(self._q["next_owner_epoch"])
        return int(value)

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
        if not batch:
            return []
        cols = (
            [n.org_id for n in batch],
            [n.run_id for n in batch],
            [n.scenario_id for n in batch],
            [n.version for n in batch],
            [n.idempotency_key for n in batch],
            [n.trigger for n in batch],
            [n.source for n in batch],
        )
        claims = [_claim_json(n.trigger_claim) for n in batch]
        rows = await self._pool.fetch(self._q["create_runs"], *cols, RUN_STATUS_QUEUED, claims)
        inserted = {r["id"] for r in rows if r["inserted"]}
        results = _resolve(batch, rows, inserted)
        if results is None:  # raced with a concurrent writer: look again in a fresh snapshot
            async with self._pool.acquire() as conn, conn.transaction():
                inserted = {
                    r["id"]
                    for r in await conn.fetch(
                        self._q["insert_runs"], *cols, RUN_STATUS_QUEUED, claims
                    )
                }
                rows = await conn.fetch(
                    self._q["match_runs"], cols[0], cols[1], cols[2], cols[4], list(inserted)
                )
            results = _resolve(batch, rows, inserted)
        if results is None:  # still nothing: the run id belongs to another organization
            raise ConflictError("a run id of this batch is taken")
        return results

    async def get(
        self, org_id: uuid.UUID, run_id: uuid.UUID, *, with_state: bool = True
    ) -> RunRecord | None:
        query = self._q["get_run" if with_state else "get_run_light"]
        row = await self._pool.fetchrow(query, org_id, run_id)
        return _run(row) if row is not None else None

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
        rows = await self._pool.fetch(
            self._q["list_runs"],
            org_id,
            scenario_id,
            list(status) if status else None,
            before,
            page_size + 1,
        )
        token = None
        if len(rows) > page_size:
            token = encode_token("runs", [int(rows[page_size - 1]["seq"])])
        return Page([_run(r) for r in rows[:page_size]], token)

    async def save_states(
        self,
        batch: Sequence[StateWrite],
        outbox_messages: Sequence[OutboxMessage] = (),
        *,
        lease_seconds: float | None = None,
        published: Sequence[int] = (),
    ) -> SaveResult:
        check_batch(batch)
        for message in outbox_messages:
            check_message(message)
        try:
            row = await self._pool.fetchrow(
                self._q["save_batch"],
                *_write_columns(batch),
                *_message_columns(outbox_messages),
                None if lease_seconds is None else float(lease_seconds),
                list(published),
                *_entry_columns(batch),
                *_new_run_columns(batch),
            )
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc
        assert row is not None  # the statement always returns its one row
        accepted = set(row["saved"])
        rejected = {w.run_id for w in batch} - accepted
        kept = kept_messages(outbox_messages, rejected)
        ids: list[int] = row["written"]
        leased: tuple[ClaimedMessage, ...] = ()
        if lease_seconds is not None:
            leased = tuple(claimed_message(i, m) for i, m in zip(ids, kept, strict=True))
        return SaveResult(
            accepted=tuple(w.run_id for w in batch if w.run_id in accepted),
            rejected=tuple(w.run_id for w in batch if w.run_id in rejected),
            outbox_written=len(ids),
            leased=leased,
        )

    async def state_entries(self, org_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, Any]:
        rows = await self._pool.fetch(self._q["state_entries"], org_id, run_id)
        return {r["key"]: r["value"] for r in rows}

    async def claim_outbox(
        self, limit: int, *, lease_seconds: float = 30.0
    ) -> builtins.list[ClaimedMessage]:  # `list` is a method name here
        if limit <= 0:
            return []
        rows = await self._pool.fetch(self._q["claim_outbox"], limit, float(lease_seconds))
        messages = [
            ClaimedMessage(
                id=r["id"],
                topic=r["topic"],
                key=bytes(r["key"]) if r["key"] is not None else None,
                value=bytes(r["value"]),
                headers=freeze_headers(
                    list(zip(r["header_keys"], r["header_values"], strict=True))
                ),
                run_id=r["run_id"],
            )
            for r in rows
        ]
        return sorted(messages, key=lambda m: m.id)

    async def delete_outbox(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        status = await self._pool.execute(self._q["delete_outbox"], list(ids))
        return int(status.split()[-1])


def _resolve(
    batch: Sequence[NewRun], rows: Sequence[Record], inserted: set[uuid.UUID]
) -> list[tuple[RunRecord, bool]] | None:
    """Per input, the run it resolved to and whether this call created it; None when an input
    matched nothing. Rows come ordered so the idempotency-key match is first per input."""
    triggers = _inserted_triggers(batch, inserted)
    best: dict[int, Record] = {}
    for row in rows:
        best.setdefault(int(row["ord"]), row)
    results: list[tuple[RunRecord, bool]] = []
    seen: set[uuid.UUID] = set()
    for index in range(1, len(batch) + 1):
        found = best.get(index)
        if found is None:
            return None
        record = _run(found, triggers)
        results.append((record, record.id in inserted and record.id not in seen))
        seen.add(record.id)
    return results


def _write_columns(batch: Sequence[StateWrite]) -> tuple[list[Any], ...]:
    return (
        [w.org_id for w in batch],
        [w.run_id for w in batch],
        [w.owner_epoch for w in batch],
        [w.state for w in batch],
        [w.status for w in batch],
        [w.operations for w in batch],
    )


def _message_columns(messages: Sequence[OutboxMessage]) -> tuple[list[Any], ...]:
    """The messages as unnest's columns, headers flattened with each message's (from, count)."""
    header_keys: list[str] = []
    header_values: list[bytes] = []
    starts: list[int] = []
    counts: list[int] = []
    for message in messages:
        starts.append(len(header_keys))
        counts.append(len(message.headers))
        for key, value in message.headers:
            header_keys.append(key)
            header_values.append(value)
    return (
        [m.topic for m in messages],
        [m.key for m in messages],
        [bytes(m.value) for m in messages],
        header_keys,
        header_values,
        starts,
        counts,
        [m.run_id for m in messages],
    )


def _inserted_triggers(
    batch: Sequence[NewRun], inserted: set[uuid.UUID]
) -> dict[uuid.UUID, JsonObject]:
    triggers: dict[uuid.UUID, JsonObject] = {}
    for new in batch:  # of inputs sharing an id, the first is the one that was inserted
        if new.run_id in inserted:
            triggers.setdefault(new.run_id, new.trigger)
    return triggers


def _run(row: Record, triggers: dict[uuid.UUID, JsonObject] | None = None) -> RunRecord:
    """`triggers`: the triggers of runs just inserted, which the row does not carry."""
    trigger = row["trigger"]
    if trigger is None and triggers is not None:
        trigger = triggers[row["id"]]
    return RunRecord(
        org_id=row["org_id"],
        id=row["id"],
        scenario_id=row["scenario_id"],
        version=row["version"],
        idempotency_key=row["idempotency_key"],
        trigger=trigger,
        source=row["source"],
        status=row["status"],
        state=row["state"],
        operations=row["operations"],
        owner_epoch=row["owner_epoch"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        trigger_claim=_claim_ref(row["trigger_claim"]),
    )


def _claim_json(ref: ClaimRef | None) -> JsonObject | None:
    if ref is None:
        return None
    return {
        "ref": ref.ref,
        "sha256": ref.sha256,
        "size_bytes": ref.size_bytes,
        "content_type": ref.content_type,
    }


def _claim_ref(stored: JsonObject | None) -> ClaimRef | None:
    if stored is None:
        return None
    return ClaimRef(
        stored["ref"], stored["sha256"], int(stored["size_bytes"]), stored["content_type"]
    )


def _new_run_columns(batch: Sequence[StateWrite]) -> tuple[list[Any], ...]:
    """Per write, the run it inserts (NULLs for a write that updates)."""
    news = [w.create for w in batch]
    return (
        [n is not None for n in news],
        [n.scenario_id if n else None for n in news],
        [n.version if n else None for n in news],
        [n.idempotency_key if n else None for n in news],
        [n.trigger if n else None for n in news],
        [n.source if n else None for n in news],
        [_claim_json(n.trigger_claim) if n else None for n in news],
        [n.created_at if n else None for n in news],
    )


def _entry_columns(batch: Sequence[StateWrite]) -> tuple[list[Any], ...]:
    put = [w for w in batch if w.entries]
    dropped = [(w.run_id, key) for w in batch for key in w.dropped]
    return (
        [w.run_id for w in put],
        [dict(w.entries) for w in put],
        [run_id for run_id, _ in dropped],
        [key for _, key in dropped],
    )
