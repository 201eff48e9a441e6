"""In-memory WebhookStore with the Postgres store's semantics (org scoping, unique token hash,
newest-first keyset paging)."""

from __future__ import annotations

import dataclasses
import uuid

from scenarist_storage.errors import ConflictError
from scenarist_storage.memory._clock import Clock, clone, utc_now
from scenarist_storage.memory._seq_table import SeqTable
from scenarist_storage.models import JsonObject, Page
from scenarist_storage.webhook_models import NewWebhook, WebhookAuthData, WebhookRecord


class MemoryWebhookStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._table: SeqTable[WebhookRecord] = SeqTable("webhook", "webhooks")
        self._rows = self._table.rows  # the same dict: updates write rows in place
        self._by_token: dict[bytes, uuid.UUID] = {}

    async def create(self, new: NewWebhook) -> WebhookRecord:
        if new.id in self._rows or new.token_hash in self._by_token:
            raise ConflictError("webhook id or token already exists")
        record = WebhookRecord(
            id=new.id,
            org_id=new.org_id,
            scenario_id=new.scenario_id,
            name=new.name,
            token_hash=new.token_hash,
            sealed_token=new.sealed_token,
            auth=new.auth,
            options=clone(new.options),
            created_at=self._clock(),
            rotated_at=None,
        )
        self._table.insert(record)
        self._by_token[new.token_hash] = new.id
        return clone(record)

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> WebhookRecord | None:
        return self._table.get(org_id, webhook_id)

    async def find_by_token_hash(self, token_hash: bytes) -> WebhookRecord | None:
        webhook_id = self._by_token.get(token_hash)
        return clone(self._rows[webhook_id][1]) if webhook_id is not None else None

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        scenario_id: uuid.UUID | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[WebhookRecord]:
        return self._table.page(org_id, scenario_id, page_size, page_token)

    async def rotate(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        token: tuple[bytes, bytes] | None = None,
        auth: WebhookAuthData | None = None,
    ) -> WebhookRecord:
        seq, record = self._table.owned(org_id, webhook_id)
        changes: dict[str, object] = {"rotated_at": self._clock()}
        if token is not None:
            if self._by_token.get(token[0], webhook_id) != webhook_id:
                raise ConflictError("webhook token already exists")
            del self._by_token[record.token_hash]
            self._by_token[token[0]] = webhook_id
            changes.update(token_hash=token[0], sealed_token=token[1])
        if auth is not None:
            changes["auth"] = auth
        updated = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
        self._rows[webhook_id] = (seq, updated)
        return clone(updated)

    async def attach(
        self, org_id: uuid.UUID, webhook_id: uuid.UUID, scenario_id: uuid.UUID | None
    ) -> WebhookRecord:
        seq, record = self._table.owned(org_id, webhook_id)
        updated = dataclasses.replace(record, scenario_id=scenario_id)
        self._rows[webhook_id] = (seq, updated)
        return clone(updated)

    async def update(
        self,
        org_id: uuid.UUID,
        webhook_id: uuid.UUID,
        *,
        name: str | None = None,
        options: JsonObject | None = None,
    ) -> WebhookRecord:
        seq, record = self._table.owned(org_id, webhook_id)
        updated = dataclasses.replace(
            record,
            name=record.name if name is None else name,
            options=record.options if options is None else clone(options),
        )
        self._rows[webhook_id] = (seq, updated)
        return clone(updated)

    async def delete(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
        _, record = self._table.owned(org_id, webhook_id)
        del self._rows[webhook_id]
        del self._by_token[record.token_hash]
