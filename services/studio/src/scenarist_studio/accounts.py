"""Accounts: creating users (each with a service token minted through TokenService), signing in,
sessions, and script tokens.

Who calls the REST API is a `Caller`: a user reached through a session cookie (unsafe methods
then need the CSRF token) or through a script token (`Authorization: Bearer sst_…`, no CSRF:
browsers never attach it by themselves).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scenarist.identity.v1 import identity_pb2, token_service_pb2
from scenarist_storage.models import Role

from scenarist_studio.clients import Clients
from scenarist_studio.passwords import Passwords
from scenarist_studio.sealing import Sealer
from scenarist_studio.users import ApiTokenRecord, SessionRecord, User, UserStore, digest

__all__ = ["Accounts", "Caller", "NewSession", "role_allows"]

TOKEN_PREFIX = "sst_"  # noqa: S105 - the visible prefix of studio script tokens
_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
_PROTO_ROLE = {
    Role.VIEWER: identity_pb2.ROLE_VIEWER,
    Role.EDITOR: identity_pb2.ROLE_EDITOR,
    Role.OWNER: identity_pb2.ROLE_OWNER,
}


def role_allows(role: Role, needed: Role) -> bool:
    return _RANK[role] >= _RANK[needed]


def _lower(a: Role, b: Role) -> Role:
    return a if _RANK[a] <= _RANK[b] else b


@dataclass(frozen=True)
class Caller:
    user: User
    role: Role  # the user's role, or lower for a script token created with less
    grpc_token: str
    session: SessionRecord | None  # None when authenticated by a script token


@dataclass(frozen=True)
class NewSession:
    secret: str  # the cookie value; only its hash is stored
    csrf: str
    user: User


class Accounts:
    def __init__(
        self,
        store: UserStore,
        passwords: Passwords,
        sealer: Sealer,
        clients: Clients | None,
        session_ttl: timedelta,
    ) -> None:
        self.store = store
        self.passwords = passwords
        self._sealer = sealer
        self._clients = clients
        self._session_ttl = session_ttl

    # --- users ---------------------------------------------------------------------------

    async def create_user(
        self, email: str, password: str, role: Role, org_id: uuid.UUID, grpc_token: str
    ) -> User:
        """A user whose gRPC calls use `grpc_token` (a token of `org_id` with `role`)."""
        user_id = uuid.uuid4()
        user = User(
            id=user_id,
            org_id=org_id,
            email=email.strip(),
            password_hash=await self.passwords.hash(password),
            role=role,
            sealed_token=self._sealer.seal(grpc_token, str(user_id)),
            created_at=datetime.now(UTC),
        )
        await self.store.add_user(user)
        return user

    async def mint_service_token(self, owner_token: str, role: Role, email: str) -> str:
        """A fresh API token of `role` in the owner token's organization, for one studio user."""
        if self._clients is None:
            raise RuntimeError("no gRPC clients configured")
        request = token_service_pb2.CreateApiTokenRequest(
            name=f"studio:{email}"[:200], role=_PROTO_ROLE[role]
        )
        created = await self._clients.call(
            self._clients.tokens.CreateApiToken, request, owner_token
        )
        return created.secret

    def grpc_token(self, user: User) -> str:
        return self._sealer.open(user.sealed_token, str(user.id))

    # --- sessions ------------------------------------------------------------------------

    async def sign_in(self, email: str, password: str) -> NewSession | None:
        user = await self.store.user_by_email(email.strip())
        stored = user.password_hash if user is not None else None
        if not await self.passwords.verify(stored, password) or user is None:
            return None
        if self.passwords.needs_rehash(user.password_hash):
            await self.store.set_password(user.id, await self.passwords.hash(password))
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + self._session_ttl
        await self.store.add_session(SessionRecord(digest(secret), user.id, csrf, expires))
        return NewSession(secret, csrf, user)

    async def sign_out(self, secret: str) -> None:
        await self.store.delete_session(digest(secret))

    async def from_session(self, secret: str) -> Caller | None:
        session = await self.store.session(digest(secret), datetime.now(UTC))
        if session is None:
            return None
        user = await self.store.user(session.user_id)
        if user is None:
            return None
        return Caller(user, user.role, self.grpc_token(user), session)

    @staticmethod
    def csrf_ok(caller: Caller, header: str | None, cookie: str | None) -> bool:
        """Double submit, bound to the session: header == cookie == the session's token."""
        if caller.session is None:
            return True  # script tokens are not sent by browsers on their own
        if not header or not cookie:
            return False
        expected = caller.session.csrf.encode()
        return hmac.compare_digest(header.encode(), expected) and hmac.compare_digest(
            cookie.encode(), expected
        )

    # --- script tokens -------------------------------------------------------------------

    async def create_token(self, user: User, name: str, role: Role) -> tuple[ApiTokenRecord, str]:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = ApiTokenRecord(
            id=uuid.uuid4(),
            user_id=user.id,
            name=name,
            token_hash=digest(secret),
            prefix=secret[:10],
            role=_lower(role, user.role),
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        await self.store.add_token(record)
        return record, secret

    async def from_token(self, secret: str) -> Caller | None:
        if not secret.startswith(TOKEN_PREFIX):
            return None
        record = await self.store.token(digest(secret))
        if record is None or record.revoked_at is not None:
            return None
        user = await self.store.user(record.user_id)
        if user is None:
            return None
        return Caller(user, _lower(record.role, user.role), self.grpc_token(user), None)
