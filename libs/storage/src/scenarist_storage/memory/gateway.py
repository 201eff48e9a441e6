"""In-process stores of the connector gateway, with the Postgres stores' semantics."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from scenarist_storage.errors import ConflictError, LimitExceededError, NotFoundError
from scenarist_storage.gateway_models import (
    ConnectionRecord,
    DataRecord,
    DataStoreInfo,
    JsonObject,
    NewConnection,
    RecordChange,
    record_size,
)
from scenarist_storage.memory._clock import Clock, clone, utc_now
from scenarist_storage.models import Page
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_uuid


def _page_after(items: list[tuple[str, uuid.UUID]], kind: str, token: str | None) -> int:
    """Index of the first (name, id) after the token's key in the sorted `items`."""
    if not token:
        return 0
    name, raw_id = decode_token(kind, token, 2)
    after = (str(name), token_uuid(raw_id))
    return sum(1 for item in items if item <= after)


class MemoryConnectionStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._rows: dict[uuid.UUID, ConnectionRecord] = {}

    async def create_connection(self, new: NewConnection) -> ConnectionRecord:
        if new.id in self._rows:
            raise ConflictError(f"connection {new.id} already exists")
        now = self._clock()
        record = ConnectionRecord(
            org_id=new.org_id,
            id=new.id,
            app=new.app,
            type=new.type,
            name=new.name,
            parameters=dict(new.parameters),
            secret_fields=tuple(new.secret_fields),
            sealed=new.sealed,
            created_at=now,
            updated_at=now,
            expires_at=new.expires_at,
        )
        self._rows[new.id] = clone(record)
        return record

    async def get_connection(
        self, org_id: uuid.UUID, connection_id: uuid.UUID
    ) -> ConnectionRecord | None:
        found = self._rows.get(connection_id)
        return clone(found) if found is not None and found.org_id == org_id else None

    async def list_connections(
        self,
        org_id: uuid.UUID,
        *,
        app: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page[ConnectionRecord]:
        check_page_size(page_size)
        found = sorted(
            (c for c in self._rows.values() if c.org_id == org_id and app in (None, c.app)),
            key=lambda c: (c.name, c.id),
        )
        start = _page_after([(c.name, c.id) for c in found], "connections", page_token)
        items = clone(found[start : start + page_size])
        token = None
        if len(found) > start + page_size:
            token = encode_token("connections", [items[-1].name, str(items[-1].id)])
        return Page(items, token)

    async def delete_connection(self, org_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        if await self.get_connection(org_id, connection_id) is None:
            raise NotFoundError(f"connection {connection_id} not found")
        del self._rows[connection_id]

    async def connections_to_rewrap(self, active_key_id: str, limit: int) -> list[ConnectionRecord]:
        stale = sorted(
            (c for c in self._rows.values() if c.sealed.key_id != active_key_id),
            key=lambda c: c.id,
        )
        return clone(stale[:limit])

    async def replace_wrapped_key(
        self, connection_id: uuid.UUID, old_key_id: str, new_key_id: str, wrapped_key: bytes
    ) -> bool:
        found = self._rows.get(connection_id)
        if found is None or found.sealed.key_id != old_key_id:
            return False
        sealed = dataclasses.replace(found.sealed, key_id=new_key_id, wrapped_key=wrapped_key)
        self._rows[connection_id] = dataclasses.replace(found, sealed=sealed)
        return True


@dataclasses.dataclass(slots=True)
class _Store:
    info: DataStoreInfo
    records: dict[str, DataRecord] = dataclasses.field(default_factory=dict)
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)

    def accounted(self) -> DataStoreInfo:
        return dataclasses.replace(
            self.info, size_bytes=sum(self.sizes.values()), record_count=len(self.records)
        )


class MemoryDataStoreStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._stores: dict[uuid.UUID, _Store] = {}

    async def create_data_store(
        self, org_id: uuid.UUID, name: str, fields: Sequence[JsonObject], max_size_bytes: int
    ) -> DataStoreInfo:
        if any(s.info.org_id == org_id and s.info.name == name for s in self._stores.values()):
            raise ConflictError(f"a data store named {name!r} already exists")
        info = DataStoreInfo(
            org_id=org_id,
            id=uuid.uuid4(),
            name=name,
            fields=clone(list(fields)),
            max_size_bytes=max_size_bytes,
            size_bytes=0,
            record_count=0,
            created_at=self._clock(),
        )
        self._stores[info.id] = _Store(info)
        return clone(info)

    def _store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> _Store:
        found = self._stores.get(store_id)
        if found is None or found.info.org_id != org_id:
            raise NotFoundError(f"data store {store_id} not found")
        return found

    async def get_data_store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> DataStoreInfo | None:
        try:
            return clone(self._store(org_id, store_id).accounted())
        except NotFoundError:
            return None

    async def list_data_stores(
        self, org_id: uuid.UUID, *, page_size: int = 50, page_token: str | None = None
    ) -> Page[DataStoreInfo]:
        check_page_size(page_size)
        found = sorted(
            (s.accounted() for s in self._stores.values() if s.info.org_id == org_id),
            key=lambda i: (i.name, i.id),
        )
        start = _page_after([(i.name, i.id) for i in found], "data_stores", page_token)
        items = clone(found[start : start + page_size])
        token = None
        if len(found) > start + page_size:
            token = encode_token("data_stores", [items[-1].name, str(items[-1].id)])
        return Page(items, token)

    async def delete_data_store(self, org_id: uuid.UUID, store_id: uuid.UUID) -> None:
        self._store(org_id, store_id)
        del self._stores[store_id]

    async def write_record(
        self,
        org_id: uuid.UUID,
        store_id: uuid.UUID,
        key: str,
        change: RecordChange,
        *,
        max_records: int,
    ) -> tuple[DataRecord, bool]:
        store = self._store(org_id, store_id)
        current = store.records.get(key)
        data = clone(change(clone(current.data) if current is not None else None))
        size = record_size(key, data)
        total = sum(store.sizes.values()) - store.sizes.get(key, 0) + size
        if total > store.info.max_size_bytes:
            raise LimitExceededError(
                f"the data store would exceed its size limit of {store.info.max_size_bytes} bytes"
            )
        if current is None and len(store.records) + 1 > max_records:
            raise LimitExceededError(f"the data store would exceed {max_records} records")
        now = self._clock()
        record = DataRecord(
            key=key,
            data=data,
            created_at=current.created_at if current is not None else now,
            updated_at=now,
        )
        store.records[key] = record
        store.sizes[key] = size
        return clone(record), current is None

    async def get_record(
        self, org_id: uuid.UUID, store_id: uuid.UUID, key: str
    ) -> DataRecord | None:
        found = self._store(org_id, store_id).records.get(key)
        return clone(found) if found is not None else None

    async def delete_record(self, org_id: uuid.UUID, store_id: uuid.UUID, key: str) -> bool:
        store = self._store(org_id, store_id)
        store.sizes.pop(key, None)
        return store.records.pop(key, None) is not None

    async def all_records(self, org_id: uuid.UUID, store_id: uuid.UUID) -> list[DataRecord]:
        store = self._store(org_id, store_id)
        return clone([store.records[key] for key in sorted(store.records)])

    async def delete_all_records(self, org_id: uuid.UUID, store_id: uuid.UUID) -> int:
        store = self._store(org_id, store_id)
        deleted = len(store.records)
        store.records.clear()
        store.sizes.clear()
        return deleted
