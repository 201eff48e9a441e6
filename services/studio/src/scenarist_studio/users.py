"""Studio users, sessions and script tokens: records and the store port, with an in-memory store.

A user belongs to one organization with one role and carries a sealed service API token of that
organization and role, which the studio presents on the user's gRPC calls: the other services
enforce the same role a second time. Session ids and script tokens are only kept as SHA-256.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from scenarist_storage.models import Role

__all__ = [
    "ApiTokenRecord",
    "EmailTakenError",
    "MemoryUserStore",
    "SessionRecord",
    "User",
    "UserStore",
    "digest",
]


class EmailTakenError(Exception):
    """Another user already has this email (emails are unique, case-insensitively)."""


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    password_hash: str
    role: Role
    sealed_token: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id_hash: bytes
    user_id: uuid.UUID
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    token_hash: bytes
    prefix: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class UserStore(Protocol):
    async def add_user(self, user: User) -> None: ...
    async def user(self, user_id: uuid.UUID) -> User | None: ...
    async def user_by_email(self, email: str) -> User | None: ...
    async def first_user(self) -> User | None: ...
    async def users(self, org_id: uuid.UUID) -> list[User]: ...
    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None: ...
    async def add_session(self, session: SessionRecord) -> None: ...
    async def session(self, id_hash: bytes, now: datetime) -> SessionRecord | None: ...
    async def delete_session(self, id_hash: bytes) -> None: ...
    async def add_token(self, token: ApiTokenRecord) -> None: ...
    async def token(self, token_hash: bytes) -> ApiTokenRecord | None: ...
    async def tokens(self, user_id: uuid.UUID) -> list[ApiTokenRecord]: ...
    async def revoke_token(
        self, user_id: uuid.UUID, token_id: uuid.UUID, now: datetime
    ) -> bool: ...


class MemoryUserStore:
    """The in-process store for unit tests; same semantics as the Postgres one."""

    def __init__(self) -> None:
        self._users: dict[uuid.UUID, User] = {}
        self._sessions: dict[bytes, SessionRecord] = {}
        self._tokens: dict[uuid.UUID, ApiTokenRecord] = {}

    async def add_user(self, user: User) -> None:
        if await self.user_by_email(user.email) is not None:
            raise EmailTakenError(user.email)
        self._users[user.id] = user

    async def user(self, user_id: uuid.UUID) -> User | None:
        return self._users.get(user_id)

    async def user_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self._users.values() if u.email.lower() == wanted), None)

    async def first_user(self) -> User | None:
        return min(self._users.values(), key=lambda u: u.created_at, default=None)

    async def users(self, org_id: uuid.UUID) -> list[User]:
        found = [u for u in self._users.values() if u.org_id == org_id]
        return sorted(found, key=lambda u: u.created_at)

    async def set_password(self, user_id: uuid.UUID, password_hash: str) -> None:
        self._users[user_id] = replace(self._users[user_id], password_hash=password_hash)

    async def add_session(self, session: SessionRecord) -> None:
        self._sessions[session.id_hash] = session

    async def session(self, id_hash: bytes, now: datetime) -> SessionRecord | None:
        found = self._sessions.get(id_hash)
        return found if found is not None and found.expires_at > now else None

    async def delete_session(self, id_hash: bytes) -> None:
        self._sessions.pop(id_hash, None)

    async def add_token(self, token: ApiTokenRecord) -> None:
        self._tokens[token.id] = token

    async def token(self, token_hash: bytes) -> ApiTokenRecord | None:
        return next((t for t in self._tokens.values() if t.token_hash == token_hash), None)

    async def tokens(self, user_id: uuid.UUID) -> list[ApiTokenRecord]:
        found = [t for t in self._tokens.values() if t.user_id == user_id]
        return sorted(found, key=lambda t: t.created_at, reverse=True)

    async def revoke_token(self, user_id: uuid.UUID, token_id: uuid.UUID, now: datetime) -> bool:
        found = self._tokens.get(token_id)
        if found is None or found.user_id != user_id:
            return False
        if found.revoked_at is None:
            self._tokens[token_id] = replace(found, revoked_at=now)
        return True
