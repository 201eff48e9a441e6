from __future__ import annotations

import uuid

from scenarist_storage import tokens
from scenarist_storage.errors import NotFoundError
from scenarist_storage.models import Organization, Principal, Role, TokenInfo
from scenarist_storage.postgres import Pool, Record, qualify

_CREATE_ORG = "INSERT INTO {s}.organizations (id, name) VALUES ($1, $2) RETURNING *"
_GET_ORG = "SELECT * FROM {s}.organizations WHERE id = $1"
_FIRST_ORG = "SELECT * FROM {s}.organizations ORDER BY created_at, id LIMIT 1"
# INSERT ... SELECT from the org row: an unknown org inserts nothing instead of raising.
_INSERT_CREDENTIAL = """
INSERT INTO {s}.api_tokens (id, org_id, role, name, secret_hash)
SELECT $1, o.id, $3, $4, $5 FROM {s}.organizations o WHERE o.id = $2
RETURNING id
"""
_FIND_CREDENTIAL = "SELECT org_id, role, secret_hash, revoked_at FROM {s}.api_tokens WHERE id = $1"
_REVOKE = """
UPDATE {s}.api_tokens SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND org_id = $2 RETURNING id
"""
_LIST_TOKENS = """
SELECT id, org_id, role, name, created_at, revoked_at FROM {s}.api_tokens
WHERE org_id = $1 ORDER BY created_at, id
"""


class PgIdentityStore:
    def __init__(self, pool: Pool, schema: str = "identity") -> None:
        self._pool = pool
        self._q = {
            name: qualify(sql, schema)
            for name, sql in {
                "create_org": _CREATE_ORG,
                "get_org": _GET_ORG,
                "first_org": _FIRST_ORG,
                "create_token": _INSERT_CREDENTIAL,
                "find_token": _FIND_CREDENTIAL,
                "revoke": _REVOKE,
                "list_tokens": _LIST_TOKENS,
            }.items()
        }

    async def create_organization(self, name: str) -> Organization:
        if not name:
            raise ValueError("organization name must not be empty")
        row = await self._pool.fetchrow(self._q["create_org"], uuid.uuid4(), name)
        assert row is not None
        return _org(row)

    async def get_organization(self, org_id: uuid.UUID) -> Organization | None:
        row = await self._pool.fetchrow(self._q["get_org"], org_id)
        return _org(row) if row is not None else None

    async def first_organization(self) -> Organization | None:
        row = await self._pool.fetchrow(self._q["first_org"])
        return _org(row) if row is not None else None

    async def create_token(self, org_id: uuid.UUID, role: Role, name: str) -> tuple[uuid.UUID, str]:
        token_id = uuid.uuid4()
        secret = tokens.new_secret(token_id)
        row = await self._pool.fetchrow(
            self._q["create_token"],
            token_id,
            org_id,
            Role(role).value,
            name,
            tokens.hash_secret(secret),
        )
        if row is None:
            raise NotFoundError(f"organization {org_id} not found")
        return token_id, secret

    async def authenticate(self, secret: str) -> Principal | None:
        token_id = tokens.parse_token_id(secret)
        if token_id is None:
            return None
        row = await self._pool.fetchrow(self._q["find_token"], token_id)
        if row is None or not tokens.matches(secret, bytes(row["secret_hash"])):
            return None
        if row["revoked_at"] is not None:
            return None
        return Principal(row["org_id"], Role(row["role"]), token_id)

    async def revoke_token(self, org_id: uuid.UUID, token_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["revoke"], token_id, org_id) is None:
            raise NotFoundError(f"token {token_id} not found")

    async def list_tokens(self, org_id: uuid.UUID) -> list[TokenInfo]:
        rows = await self._pool.fetch(self._q["list_tokens"], org_id)
        return [
            TokenInfo(
                r["id"], r["org_id"], Role(r["role"]), r["name"], r["created_at"], r["revoked_at"]
            )
            for r in rows
        ]


def _org(row: Record) -> Organization:
    return Organization(row["id"], row["name"], row["created_at"])
