from __future__ import annotations

import dataclasses
import uuid

from scenarist_storage import tokens
from scenarist_storage.errors import NotFoundError
from scenarist_storage.memory._clock import Clock, utc_now
from scenarist_storage.models import Organization, Principal, Role, TokenInfo


@dataclasses.dataclass(slots=True)
class _Token:
    info: TokenInfo
    secret_hash: bytes


class MemoryIdentityStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._orgs: dict[uuid.UUID, Organization] = {}
        self._tokens: dict[uuid.UUID, _Token] = {}

    async def create_organization(self, name: str) -> Organization:
        if not name:
            raise ValueError("organization name must not be empty")
        org = Organization(id=uuid.uuid4(), name=name, created_at=self._clock())
        self._orgs[org.id] = org
        return org

    async def get_organization(self, org_id: uuid.UUID) -> Organization | None:
        return self._orgs.get(org_id)

    async def first_organization(self) -> Organization | None:
        return next(iter(self._orgs.values()), None)  # dicts keep insertion order

    async def create_token(self, org_id: uuid.UUID, role: Role, name: str) -> tuple[uuid.UUID, str]:
        if org_id not in self._orgs:
            raise NotFoundError(f"organization {org_id} not found")
        token_id = uuid.uuid4()
        secret = tokens.new_secret(token_id)
        info = TokenInfo(token_id, org_id, Role(role), name, self._clock(), None)
        self._tokens[token_id] = _Token(info, tokens.hash_secret(secret))
        return token_id, secret

    async def authenticate(self, secret: str) -> Principal | None:
        token_id = tokens.parse_token_id(secret)
        token = self._tokens.get(token_id) if token_id is not None else None
        if token is None or not tokens.matches(secret, token.secret_hash):
            return None
        if token.info.revoked_at is not None:
            return None
        return Principal(token.info.org_id, token.info.role, token.info.id)

    async def revoke_token(self, org_id: uuid.UUID, token_id: uuid.UUID) -> None:
        token = self._tokens.get(token_id)
        if token is None or token.info.org_id != org_id:
            raise NotFoundError(f"token {token_id} not found")
        if token.info.revoked_at is None:
            token.info = dataclasses.replace(token.info, revoked_at=self._clock())

    async def list_tokens(self, org_id: uuid.UUID) -> list[TokenInfo]:
        found = [t.info for t in self._tokens.values() if t.info.org_id == org_id]
        return sorted(found, key=lambda t: (t.created_at, t.id))
