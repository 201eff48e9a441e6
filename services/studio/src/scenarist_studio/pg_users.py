"""The Postgres user store, in the studio's own schema (`studio` by default)."""

from __future__ import annotations

import uuid
from datetime import datetime

from scenarist_storage.models import Role
from scenarist_storage.postgres import Pool, Record, qualify

from scenarist_studio.users import ApiTokenRecord, EmailTakenError, SessionRecord, User

__all__ = ["PgUserStore"]

_UNIQUE_VIOLATION = "23505"
# Fixed texts; the only variable parts appended to them are constant clauses of this module.
_SELECT_USERS = (
    "SELECT id, org_id, email, password_hash, role, sealed_token, created_at"
    " FROM {s}.users WHERE disabled_at IS NULL"
)
_SELECT_TOKENS = (
    "SELECT id, user_id, name, token_hash, prefix, role, created_at, revoked_at FROM {s}.api_tokens"
)


def _user(row: Record) -> User:
    return User(
        id=row["id"],
        org_id=row["org_id"],
        email=row["email"],
        password_hash=row["password_hash"],
        role=Role(row["role"]),
        sealed_token=bytes(row["sealed_token"]),
        created_at=row["created_at"],
    )


def _token(row: Record) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token_hash=bytes(row["token_hash"]),
        prefix=row["prefix"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class PgUserStore:
    def __init__(self, pool: Pool, schema: str = "studio") -> None:
        self._pool = pool
        self._s = schema

    def _q(self, sql: str) -> str:
        return qualify(sql, self._s)

    async def add_user(self, user: User) -> None:
        try:
            await self._pool.execute(
                self._q(
                    "INSERT INTO {s}.users (id, org_id, email, password_hash, role, sealed_token,"
                    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                user.id,
                user.org_id,
                user.email,
                user.password_hash,
                user.role.value,
                user.sealed_token,
                user.created_at,
            )
        except Exception as exc:
            if getattr(exc, "sqlstate", None) == _UNIQUE_VIOLATION:
                raise EmailTakenError(user.email) from exc
            raise

    async def _one_user(self, where: str, *args: object) -> User | None:
        row = await self._pool.fetchrow(
            self._q(_SELECT_USERS + where),
            *args,
        )
        return _user(row) if row is not None else None

    async def user(self, user_id: uuid.UUID) -> User | None:
        return await self._one_user(" AND id = $1", user_id)

    async def user_by_email(self, email: str) -> User | None:
        return await self._one_user(" AND lower(email) = lower($1)", email)

    async def first_user(self) -> User | None:
        return await self._one_user(" ORDER BY created_at, id LIMIT 1")

    async def users(self, org_id: uuid.UUID) -> list[User]:
        rows = await self._pool.fetch(
            self._q(_SELECT_USERS + " AND org_id = $1 ORDER BY created_at, id"),
            org_id,
        )
        return [_user(r) for r in rows]

    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self._pool.execute(
            self._q("UPDATE {s}.users SET password_hash = $2 WHERE id = $1"),
            user_id,
            password_hash,
        )

    async def add_session(self, session: SessionRecord) -> None:
        await self._pool.execute(
            self._q(
                "INSERT INTO {s}.sessions (id_hash, user_id, csrf, expires_at)"
                " VALUES ($1, $2, $3, $4)"
            ),
            session.id_hash,
            session.user_id,
            session.csrf,
            session.expires_at,
        )

    async def session(self, id_hash: bytes, now: datetime) -> SessionRecord | None:
        row = await self._pool.fetchrow(
            self._q(
                "SELECT id_hash, user_id, csrf, expires_at FROM {s}.sessions"
                " WHERE id_hash = $1 AND expires_at > $2"
            ),
            id_hash,
            now,
        )
        if row is None:
            return None
        return SessionRecord(bytes(row["id_hash"]), row["user_id"], row["csrf"], row["expires_at"])

    async def delete_session(self, id_hash: bytes) -> None:
        await self._pool.execute(self._q("DELETE FROM {s}.sessions WHERE id_hash = $1"), id_hash)

    async def add_token(self, token: ApiTokenRecord) -> None:
        await self._pool.execute(
            self._q(
                "INSERT INTO {s}.api_tokens (id, user_id, name, token_hash, prefix, role,"
                " created_at, revoked_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            token.id,
            token.user_id,
            token.name,
            token.token_hash,
            token.prefix,
            token.role.value,
            token.created_at,
            token.revoked_at,
        )

    async def token(self, token_hash: bytes) -> ApiTokenRecord | None:
        row = await self._pool.fetchrow(
            self._q(_SELECT_TOKENS + " WHERE token_hash = $1"),
            token_hash,
        )
        return _token(row) if row is not None else None

    async def tokens(self, user_id: uuid.UUID) -> list[ApiTokenRecord]:
        rows = await self._pool.fetch(
            self._q(_SELECT_TOKENS + " WHERE user_id = $1 ORDER BY created_at DESC, id"),
            user_id,
        )
        return [_token(r) for r in rows]

    async def revoke_token(self, user_id: uuid.UUID, token_id: uuid.UUID, now: datetime) -> bool:
        row = await self._pool.fetchrow(
            self._q(
                "UPDATE {s}.api_tokens SET revoked_at = coalesce(revoked_at, $3)"
                " WHERE id = $2 AND user_id = $1 RETURNING id"
            ),
            user_id,
            token_id,
            now,
        )
        return row is not None
