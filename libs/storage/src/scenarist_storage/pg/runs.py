from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence

import asyncpg  # type: ignore[import-untyped]

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
from scenarist_storage.postgres import Connection, Pool, Record, qualify
from scenarist_storage.runs_common import check_batch, check_message


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
    ) -> tuple[RunRecord, bool]:
        new = NewRun(org_id, scenario_id, version, run_id, idempotency_key, trigger, source)
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
        async with self._pool.acquire() as conn, conn.transaction():
            inserted = {
                r["id"] for r in await conn.fetch(self._q["insert_runs"], *cols, RUN_STATUS_QUEUED)
            }
            rows = await conn.fetch(
                self._q["match_runs"], cols[0], cols[1], cols[2], cols[4], list(inserted)
            )
            triggers = _inserted_triggers(batch, inserted)
            best: dict[int, Record] = {}
            for row in rows:  # ordered so the idempotency-key match comes first per input
                best.setdefault(int(row["ord"]), row)
            results: list[tuple[RunRecord, bool]] = []
            seen: set[uuid.UUID] = set()
            for index, new in enumerate(batch, start=1):
                found = best.get(index)
                if found is None:  # the run id belongs to another organization
                    raise ConflictError(f"run id {new.run_id} is taken")
                record = _run(found, triggers)
                results.append((record, record.id in inserted and record.id not in seen))
                seen.add(record.id)
        return results

    async def get(self, org_id: uuid.UUID, run_id: uuid.UUID) -> RunRecord | None:
        row = await self._pool.fetchrow(self._q["get_run"], org_id, run_id)
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
        self, batch: Sequence[StateWrite], outbox_messages: Sequence[OutboxMessage] = ()
    ) -> SaveResult:
        check_batch(batch)
        for message in outbox_messages:
            check_message(message)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                return await self._save(conn, batch, outbox_messages)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise IntegrityError(str(exc)) from exc

    async def _save(
        self, conn: Connection, batch: Sequence[StateWrite], messages: Sequence[OutboxMessage]
    ) -> SaveResult:
        accepted: set[uuid.UUID] = set()
        if batch:
            ids = [w.run_id for w in batch]
            # Lock the rows in id order first: two owners racing over a rebalance then queue
            # instead of deadlocking; the UPDATE re-checks the epoch on the locked row.
            await conn.execute(self._q["lock_runs"], ids)
            rows = await conn.fetch(
                self._q["save_states"],
                [w.org_id for w in batch],
                ids,
                [w.owner_epoch for w in batch],
                [w.state for w in batch],
                [w.status for w in batch],
                [w.operations for w in batch],
            )
            accepted = {r["id"] for r in rows}
        rejected = {w.run_id for w in batch} - accepted
        keep = [m for m in messages if m.run_id is None or m.run_id not in rejected]
        if keep:
            await conn.executemany(
                self._q["insert_outbox"],
                [
                    (
                        m.topic,
                        m.key,
                        bytes(m.value),
                        [k for k, _ in m.headers],
                        [v for _, v in m.headers],
                        m.run_id,
                    )
                    for m in keep
                ],
            )
        return SaveResult(
            accepted=tuple(w.run_id for w in batch if w.run_id in accepted),
            rejected=tuple(w.run_id for w in batch if w.run_id in rejected),
            outbox_written=len(keep),
        )

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
    )
