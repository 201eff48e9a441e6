"""Where the OAuth2 flows keep their state: pending authorizations and locked token updates.

Both implementations serialize token updates per connection: Postgres with a row lock
(``SELECT ... FOR UPDATE``) held while the token endpoint is called, so two gateway replicas
refreshing the same connection refresh once; memory with an in-process lock per connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from scenarist_storage.gateway_models import ConnectionRecord, SealedSecret
from scenarist_storage.memory.gateway import MemoryConnectionStore
from scenarist_storage.postgres import Pool, Record, qualify


@dataclass(frozen=True)
class PendingAuthorization:
    """One started flow; ``sealed_verifier`` is the PKCE code verifier, encrypted."""

    state_hash: bytes
    org_id: uuid.UUID
    connection_id: uuid.UUID
    redirect_uri: str
    sealed_verifier: SealedSecret
    expires_at: datetime


class TokenSlot(Protocol):
    """A connection read under its lock; ``save`` replaces its sealed secrets in that lock."""

    record: ConnectionRecord

    async def save(
        self, sealed: SealedSecret, secret_fields: Sequence[str], expires_at: datetime | None
    ) -> ConnectionRecord: ...


class OAuthStore(Protocol):
    async def save_state(self, pending: PendingAuthorization) -> None: ...

    async def take_state(self, org_id: uuid.UUID, state_hash: bytes) -> PendingAuthorization | None:
        """Remove and return the org's pending flow (expired or not): a state works once."""
        ...

    def locked(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> AbstractAsyncContextManager[TokenSlot | None]:
        """The connection under its lock; ``None`` when it is missing in this org."""
        ...


_SQL = {
    "save": """
        INSERT INTO {s}.oauth_states (state_hash, org_id, connection_id, redirect_uri, key_id,
                                      wrapped_key, ciphertext, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    """,
    # Flows nobody completed would pile up: each new one sweeps the expired ones.
    "sweep": "DELETE FROM {s}.oauth_states WHERE expires_at < now()",
    "take": "DELETE FROM {s}.oauth_states WHERE state_hash = $1 AND org_id = $2 RETURNING *",
    "lock": "SELECT * FROM {s}.connections WHERE org_id = $1 AND id = $2 FOR UPDATE",
    "update": """
        UPDATE {s}.connections
        SET key_id = $3, wrapped_key = $4, ciphertext = $5, secret_fields = $6, expires_at = $7,
            updated_at = now()
        WHERE org_id = $1 AND id = $2
        RETURNING *
    """,
}


def _sealed(row: Record) -> SealedSecret:
    return SealedSecret(row["key_id"], bytes(row["wrapped_key"]), bytes(row["ciphertext"]))


def _record(row: Record) -> ConnectionRecord:
    return ConnectionRecord(
        org_id=row["org_id"],
        id=row["id"],
        app=row["app"],
        type=row["type"],
        name=row["name"],
        parameters=dict(row["parameters"]),
        secret_fields=tuple(row["secret_fields"]),
        sealed=_sealed(row),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
    )


class _PgSlot:
    def __init__(self, conn: Any, query: str, record: ConnectionRecord) -> None:
        self._conn, self._query, self.record = conn, query, record

    async def save(
        self, sealed: SealedSecret, secret_fields: Sequence[str], expires_at: datetime | None
    ) -> ConnectionRecord:
        row = await self._conn.fetchrow(
            self._query,
            self.record.org_id,
            self.record.id,
            sealed.key_id,
            sealed.wrapped_key,
            sealed.ciphertext,
            list(secret_fields),
            expires_at,
        )
        self.record = _record(row)
        return self.record


class PgOAuthStore:
    def __init__(self, pool: Pool, schema: str = "gateway") -> None:
        self._pool = pool
        self._q = {name: qualify(text, schema) for name, text in _SQL.items()}

    async def save_state(self, pending: PendingAuthorization) -> None:
        sealed = pending.sealed_verifier
        await self._pool.execute(self._q["sweep"])
        await self._pool.execute(
            self._q["save"],
            pending.state_hash,
            pending.org_id,
            pending.connection_id,
            pending.redirect_uri,
            sealed.key_id,
            sealed.wrapped_key,
            sealed.ciphertext,
            pending.expires_at,
        )

    async def take_state(self, org_id: uuid.UUID, state_hash: bytes) -> PendingAuthorization | None:
        row = await self._pool.fetchrow(self._q["take"], state_hash, org_id)
        if row is None:
            return None
        return PendingAuthorization(
            bytes(row["state_hash"]),
            row["org_id"],
            row["connection_id"],
            row["redirect_uri"],
            _sealed(row),
            row["expires_at"],
        )

    @asynccontextmanager
    async def locked(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> AsyncIterator[TokenSlot | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(self._q["lock"], org_id, connection_id)
            yield None if row is None else _PgSlot(conn, self._q["update"], _record(row))


class _MemorySlot:
    def __init__(self, connections: MemoryConnectionStore, record: ConnectionRecord) -> None:
        self._connections, self.record = connections, record

    async def save(
        self, sealed: SealedSecret, secret_fields: Sequence[str], expires_at: datetime | None
    ) -> ConnectionRecord:
        self.record = dataclasses.replace(
            self.record,
            sealed=sealed,
            secret_fields=tuple(secret_fields),
            expires_at=expires_at,
            updated_at=datetime.now(UTC),
        )
        # The port has no "replace secrets" yet (libs/storage); the memory rows are ours to set.
        self._connections._rows[self.record.id] = self.record
        return self.record


class MemoryOAuthStore:
    def __init__(self, connections: MemoryConnectionStore) -> None:
        self._connections = connections
        self._states: dict[bytes, PendingAuthorization] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def save_state(self, pending: PendingAuthorization) -> None:
        self._states[pending.state_hash] = pending

    async def take_state(self, org_id: uuid.UUID, state_hash: bytes) -> PendingAuthorization | None:
        found = self._states.get(state_hash)
        if found is None or found.org_id != org_id:
            return None
        return self._states.pop(state_hash)

    @asynccontextmanager
    async def locked(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> AsyncIterator[TokenSlot | None]:
        async with self._locks.setdefault(connection_id, asyncio.Lock()):
            record = await self._connections.get_connection(org_id, connection_id)
            yield None if record is None else _MemorySlot(self._connections, record)
