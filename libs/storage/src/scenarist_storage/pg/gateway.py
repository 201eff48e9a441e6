"""Postgres stores of the connector gateway: connections (sealed secrets) and data stores."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg  # type: ignore[import-untyped]

from scenarist_storage.errors import ConflictError, LimitExceededError, NotFoundError
from scenarist_storage.gateway_models import (
    ConnectionRecord,
    DataRecord,
    DataStoreInfo,
    JsonObject,
    NewConnection,
    RecordChange,
    SealedSecret,
    record_size,
)
from scenarist_storage.models import Page
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_uuid
from scenarist_storage.postgres import Pool, Record, qualify

_CONNECTIONS = {
    "insert": """
        INSERT INTO {s}.connections (org_id, id, app, type, name, parameters, secret_fields,
                                     key_id, wrapped_key, ciphertext, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING *
    """,
    "get": "SELECT * FROM {s}.connections WHERE org_id = $1 AND id = $2",
    "list": """
        SELECT * FROM {s}.connections
        WHERE org_id = $1 AND ($2::text IS NULL OR app = $2)
            AND ($3::text IS NULL OR (name, id) > ($3::text COLLATE "C", $4::uuid))
        ORDER BY name, id
        LIMIT $5
    """,
    "delete": "DELETE FROM {s}.connections WHERE org_id = $1 AND id = $2 RETURNING id",
    "to_rewrap": "SELECT * FROM {s}.connections WHERE key_id <> $1 ORDER BY id LIMIT $2",
    "rewrap": """
        UPDATE {s}.connections SET key_id = $3, wrapped_key = $4
        WHERE id = $1 AND key_id = $2
        RETURNING id
    """,
}

_STORES = {
    "insert": """
        INSERT INTO {s}.data_stores (org_id, id, name, fields, max_size_bytes)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING *
    """,
    "get": "SELECT * FROM {s}.data_stores WHERE org_id = $1 AND id = $2",
    "lock": "SELECT * FROM {s}.data_stores WHERE org_id = $1 AND id = $2 FOR UPDATE",
    "list": """
        SELECT * FROM {s}.data_stores
        WHERE org_id = $1 AND ($2::text IS NULL OR (name, id) > ($2::text COLLATE "C", $3::uuid))
        ORDER BY name, id
        LIMIT $4
    """,
    "delete": "DELETE FROM {s}.data_stores WHERE org_id = $1 AND id = $2 RETURNING id",
    "record": "SELECT * FROM {s}.records WHERE store_id = $1 AND key = $2",
    "upsert_record": """
        INSERT INTO {s}.records (store_id, key, data, size_bytes) VALUES ($1, $2, $3, $4)
        ON CONFLICT (store_id, key) DO UPDATE SET
            data = excluded.data, size_bytes = excluded.size_bytes, updated_at = now()
        RETURNING *
    """,
    "account": """
        UPDATE {s}.data_stores SET size_bytes = size_bytes + $2, record_count = record_count + $3
        WHERE id = $1
    """,
    "delete_record": """
        DELETE FROM {s}.records WHERE store_id = $1 AND key = $2 RETURNING size_bytes
    """,
    "all_records": 'SELECT * FROM {s}.records WHERE store_id = $1 ORDER BY key COLLATE "C"',
    "delete_all": "DELETE FROM {s}.records WHERE store_id = $1",
    "reset": "UPDATE {s}.data_stores SET size_bytes = 0, record_count = 0 WHERE id = $1",
}


class PgConnectionStore:
    def __init__(self, pool: Pool, schema: str = "gateway") -> None:
        self._pool = pool
        self._q = {name: qualify(text, schema) for name, text in _CONNECTIONS.items()}

    async def create_connection(self, new: NewConnection) -> ConnectionRecord:
        try:
            row = await self._pool.fetchrow(
                self._q["insert"],
                new.org_id,
                new.id,
                new.app,
                new.type,
                new.name,
                new.parameters,
                list(new.secret_fields),
                new.sealed.key_id,
                new.sealed.wrapped_key,
                new.sealed.ciphertext,
                new.expires_at,
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"connection {new.id} already exists") from exc
        assert row is not None
        return _connection(row)

    async def get_connection(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> ConnectionRecord | None:
        row = await self._pool.fetchrow(self._q["get"], org_id, connection_id)
        return _connection(row) if row is not None else None

    async def list_connections(
        self,
        org_id: uuid.UUID,
        *,
        app: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ConnectionRecord]:
        check_page_size(page_size)
        after: tuple[str | None, uuid.UUID | None] = (None, None)
        if page_token:
            name, cid = decode_token("connections", page_token, 2)
            after = (str(name), token_uuid(cid))
        rows = await self._pool.fetch(self._q["list"], org_id, app, *after, page_size + 1)
        items = [_connection(r) for r in rows[:page_size]]
        token = None
        if len(rows) > page_size:
            token = encode_token("connections", [items[-1].name, str(items[-1].id)])
        return Page(items, token)

    async def delete_connection(self, org_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["delete"], org_id, connection_id) is None:
            raise NotFoundError(f"connection {connection_id} not found")

    async def connections_to_rewrap(self, active_key_id: str, limit: int) -> list[ConnectionRecord]:
        rows = await self._pool.fetch(self._q["to_rewrap"], active_key_id, limit)
        return [_connection(r) for r in rows]

    async def replace_wrapped_key(
        self, connection_id: uuid.UUID, old_key_id: str, new_key_id: str, wrapped_key: bytes
    ) -> bool:
        row = await self._pool.fetchrow(
            self._q["rewrap"], connection_id, old_key_id, new_key_id, wrapped_key
        )
        return row is not None


class PgDataStoreStore:
    def __init__(self, pool: Pool, schema: str = "gateway") -> None:
        self._pool = pool
        self._q = {name: qualify(text, schema) for name, text in _STORES.items()}

    async def create_data_store(
        self, org_id: uuid.UUID, name: str, fields: Sequence[JsonObject], max_size_bytes: int
    ) -> DataStoreInfo:
        try:
            row = await self._pool.fetchrow(
                self._q["insert"], org_id, uuid.uuid4(), name, list(fields), max_size_bytes
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError(f"a data store named {name!r} already exists") from exc
        assert row is not None
        return _store(row)

    async def get_data_store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> DataStoreInfo | None:
        row = await self._pool.fetchrow(self._q["get"], org_id, store_id)
        return _store(row) if row is not None else None

    async def list_data_stores(
        self, org_id: uuid.UUID, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[DataStoreInfo]:
        check_page_size(page_size)
        after: tuple[str | None, uuid.UUID | None] = (None, None)
        if page_token:
            name, sid = decode_token("data_stores", page_token, 2)
            after = (str(name), token_uuid(sid))
        rows = await self._pool.fetch(self._q["list"], org_id, *after, page_size + 1)
        items = [_store(r) for r in rows[:page_size]]
        token = None
        if len(rows) > page_size:
            token = encode_token("data_stores", [items[-1].name, str(items[-1].id)])
        return Page(items, token)

    async def delete_data_store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["delete"], org_id, store_id) is None:
            raise NotFoundError(f"data store {store_id} not found")

    async def write_record(
        self,
        org_id: uuid.UUID,
        store_id: uuid.UUID,
        key: str,
        change: RecordChange,
        *,
        max_records: int,
    ) -> tuple[DataRecord, bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            # The store row lock serializes writers of one store, so the size and count checks
            # below cannot be raced past the limits.
            store = await conn.fetchrow(self._q["lock"], org_id, store_id)
            if store is None:
                raise NotFoundError(f"data store {store_id} not found")
            current = await conn.fetchrow(self._q["record"], store_id, key)
            data = change(current["data"] if current is not None else None)
            size = record_size(key, data)
            grow = size - (int(current["size_bytes"]) if current is not None else 0)
            added = 0 if current is not None else 1
            _check_limits(store, grow, added, max_records)
            row = await conn.fetchrow(self._q["upsert_record"], store_id, key, data, size)
            await conn.execute(self._q["account"], store_id, grow, added)
        assert row is not None
        return _record(row), current is None

    async def get_record(
        self, org_id: uuid.UUID, store_id: uuid.UUID, key: str
    ) -> DataRecord | None:
        await self._require(org_id, store_id)
        row = await self._pool.fetchrow(self._q["record"], store_id, key)
        return _record(row) if row is not None else None

    async def delete_record(self, org_id: uuid.UUID, store_id: uuid.UUID, key: str) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchrow(self._q["lock"], org_id, store_id) is None:
                raise NotFoundError(f"data store {store_id} not found")
            row = await conn.fetchrow(self._q["delete_record"], store_id, key)
            if row is None:
                return False
            await conn.execute(self._q["account"], store_id, -int(row["size_bytes"]), -1)
        return True

    async def all_records(self, org_id: uuid.UUID, store_id: uuid.UUID) -> list[DataRecord]:
        await self._require(org_id, store_id)
        rows = await self._pool.fetch(self._q["all_records"], store_id)
        return [_record(r) for r in rows]

    async def delete_all_records(self, org_id: uuid.UUID, store_id: uuid.UUID) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchrow(self._q["lock"], org_id, store_id) is None:
                raise NotFoundError(f"data store {store_id} not found")
            status = await conn.execute(self._q["delete_all"], store_id)
            await conn.execute(self._q["reset"], store_id)
        return int(status.split()[-1])

    async def _require(self, org_id: uuid.UUID, store_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["get"], org_id, store_id) is None:
            raise NotFoundError(f"data store {store_id} not found")


def _check_limits(store: Record, grow: int, added: int, max_records: int) -> None:
    if int(store["size_bytes"]) + grow > int(store["max_size_bytes"]):
        raise LimitExceededError(
            f"the data store would exceed its size limit of {store['max_size_bytes']} bytes"
        )
    if added and int(store["record_count"]) + added > max_records:
        raise LimitExceededError(f"the data store would exceed {max_records} records")


def _connection(row: Record) -> ConnectionRecord:
    return ConnectionRecord(
        org_id=row["org_id"],
        id=row["id"],
        app=row["app"],
        type=row["type"],
        name=row["name"],
        parameters=dict(row["parameters"]),
        secret_fields=tuple(row["secret_fields"]),
        sealed=SealedSecret(row["key_id"], bytes(row["wrapped_key"]), bytes(row["ciphertext"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
    )


def _store(row: Record) -> DataStoreInfo:
    return DataStoreInfo(
        org_id=row["org_id"],
        id=row["id"],
        name=row["name"],
        fields=list(row["fields"]),
        max_size_bytes=int(row["max_size_bytes"]),
        size_bytes=int(row["size_bytes"]),
        record_count=int(row["record_count"]),
        created_at=row["created_at"],
    )


def _record(row: Record) -> DataRecord:
    return DataRecord(
        key=row["key"],
        data=row["data"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
