"""Postgres WebhookStore: one row per webhook in the trigger schema."""

from __future__ import annotations

import uuid

import asyncpg  # type: ignore[import-untyped]

from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.models import JsonObject, Page
from scenarist_storage.paging import check_page_size, seq_before, seq_page
from scenarist_storage.postgres import Pool, Record, qualify
from scenarist_storage.webhook_models import (
    NewWebhook,
    WebhookAuthData,
    WebhookAuthType,
    WebhookRecord,
)

_COLUMNS = """
seq, id, org_id, scenario_id, name, token_hash, sealed_token, auth_type, auth_username,
secret_hash, sealed_secret, previous_sealed_secret, previous_secret_expires_at, options,
created_at, rotated_at
"""
_INSERT = """
INSERT INTO {s}.webhooks (id, org_id, scenario_id, name, token_hash, sealed_token, auth_type,
  auth_username, secret_hash, sealed_secret, previous_sealed_secret, previous_secret_expires_at,
  options)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING {cols}
"""
_GET = "SELECT {cols} FROM {s}.webhooks WHERE org_id = $1 AND id = $2"
_FIND_BY_HASH = "SELECT {cols} FROM {s}.webhooks WHERE token_hash = $1"
_LIST = """
SELECT {cols} FROM {s}.webhooks
WHERE org_id = $1 AND ($2::uuid IS NULL OR scenario_id = $2) AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq DESC
LIMIT $4
"""
# $3 false keeps the token, $7 false keeps the auth: one statement for every rotation kind.
_ROTATE = """
UPDATE {s}.webhooks SET
  token_hash = CASE WHEN $3 THEN $4 ELSE token_hash END,
  sealed_token = CASE WHEN $3 THEN $5 ELSE sealed_token END,
  auth_type = CASE WHEN $6 THEN $7 ELSE auth_type END,
  auth_username = CASE WHEN $6 THEN $8 ELSE auth_username END,
  secret_hash = CASE WHEN $6 THEN $9 ELSE secret_hash END,
  sealed_secret = CASE WHEN $6 THEN $10 ELSE sealed_secret END,
  previous_sealed_secret = CASE WHEN $6 THEN $11 ELSE previous_sealed_secret END,
  previous_secret_expires_at = CASE WHEN $6 THEN $12 ELSE previous_secret_expires_at END,
  rotated_at = now()
WHERE org_id = $1 AND id = $2
RETURNING {cols}
"""
_ATTACH = "UPDATE {s}.webhooks SET scenario_id = $3 WHERE org_id = $1 AND id = $2 RETURNING {cols}"
_UPDATE = """
UPDATE {s}.webhooks SET name = coalesce($3, name), options = coalesce($4, options)
WHERE org_id = $1 AND id = $2 RETURNING {cols}
"""
_DELETE = "DELETE FROM {s}.webhooks WHERE org_id = $1 AND id = $2 RETURNING id"


class PgWebhookStore:
    def __init__(self, pool: Pool, schema: str = "trigger") -> None:
        self._pool = pool
        sqls = {
            "insert": _INSERT,
            "get": _GET,
            "by_token": _FIND_BY_HASH,
            "list": _LIST,
            "rotate": _ROTATE,
            "attach": _ATTACH,
            "update": _UPDATE,
            "delete": _DELETE,
        }
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def create(self, new: NewWebhook) -> WebhookRecord:
        auth = new.auth
        try:
            row = await self._pool.fetchrow(
                self._q["insert"],
                new.id,
                new.org_id,
                new.scenario_id,
                new.name,
                new.token_hash,
                new.sealed_token,
                auth.type.value,
                *_auth_args(auth)[1:],
                new.options,
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError("webhook id or token already exists") from exc
        assert row is not None
        return _record(row)

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> WebhookRecord | None:
        row = await self._pool.fetchrow(self._q["get"], org_id, webhook_id)
        return _record(row) if row is not None else None

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        row = await self._pool.fetchrow(self._q["by_token"], token_hash)
        return _record(row) if row is not None else None

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[WebhookRecord]:
        check_page_size(page_size)
        before = seq_before("webhooks", page_token)
        rows = await self._pool.fetch(self._q["list"], org_id, scenario_id, before, page_size + 1)
        return seq_page("webhooks", [(int(r["seq"]), _record(r)) for r in rows], page_size)

    async def rotate(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        token: tuple[bytes, bytes] | None = None,
        auth: WebhookAuthData | None = None,
    ) -> WebhookRecord:
        token_hash, sealed = token if token is not None else (None, None)
        try:
            row = await self._pool.fetchrow(
                self._q["rotate"],
                org_id,
                webhook_id,
                token is not None,
                token_hash,
                sealed,
                auth is not None,
                *_auth_args(auth or WebhookAuthData()),
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConflictError("webhook token already exists") from exc
        if row is None:
            raise NotFoundError(f"webhook {webhook_id} not found")
        return _record(row)

    async def attach(
        self, org_id: uuid.UUID, webhook_id: uuid.UUID, scenario_id: uuid.UUID | None
    ) -> WebhookRecord:
        row = await self._pool.fetchrow(self._q["attach"], org_id, webhook_id, scenario_id)
        if row is None:
            raise NotFoundError(f"webhook {webhook_id} not found")
        return _record(row)

    async def update(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        name: str | None = None,
        options: JsonObject | None = None,
    ) -> WebhookRecord:
        row = await self._pool.fetchrow(self._q["update"], org_id, webhook_id, name, options)
        if row is None:
            raise NotFoundError(f"webhook {webhook_id} not found")
        return _record(row)

    async def delete(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["delete"], org_id, webhook_id) is None:
            raise NotFoundError(f"webhook {webhook_id} not found")


def _auth_args(auth: WebhookAuthData) -> tuple[object, ...]:
    return (
        auth.type.value,
        auth.username,
        auth.secret_hash,
        auth.sealed_secret,
        auth.previous_sealed_secret,
        auth.previous_expires_at,
    )


def _bytes(value: object) -> bytes | None:
    return None if value is None else bytes(value)  # type: ignore[call-overload]


def _record(row: Record) -> WebhookRecord:
    auth = WebhookAuthData(
        type=WebhookAuthType(row["auth_type"]),
        username=row["auth_username"],
        secret_hash=_bytes(row["secret_hash"]),
        sealed_secret=_bytes(row["sealed_secret"]),
        previous_sealed_secret=_bytes(row["previous_sealed_secret"]),
        previous_expires_at=row["previous_secret_expires_at"],
    )
    return WebhookRecord(
        id=row["id"],
        org_id=row["org_id"],
        scenario_id=row["scenario_id"],
        name=row["name"],
        token_hash=bytes(row["token_hash"]),
        sealed_token=bytes(row["sealed_token"]),
        auth=auth,
        options=dict(row["options"]),
        created_at=row["created_at"],
        rotated_at=row["rotated_at"],
    )
