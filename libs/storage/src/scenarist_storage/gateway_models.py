"""Records of the connector gateway's stores: connections (with sealed secrets) and data stores.

Secrets cross this port only as ciphertext: the gateway seals them before they reach a store, so
no store implementation (nor a database dump) ever holds a plaintext credential."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """Envelope-encrypted secret: `ciphertext` under a per-connection data key, which is itself
    stored only wrapped under the key-encryption key `key_id`."""

    key_id: str
    wrapped_key: bytes
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class NewConnection:
    org_id: uuid.UUID
    id: uuid.UUID  # chosen by the gateway: the ciphertext is bound to it
    app: str
    type: str  # api_key | basic | bearer | oauth2
    name: str
    parameters: dict[str, str]
    secret_fields: tuple[str, ...]
    sealed: SealedSecret
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    org_id: uuid.UUID
    id: uuid.UUID
    app: str
    type: str
    name: str
    parameters: dict[str, str]
    secret_fields: tuple[str, ...]
    sealed: SealedSecret
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DataStoreInfo:
    org_id: uuid.UUID
    id: uuid.UUID
    name: str
    fields: list[JsonObject]  # the record structure, as the gateway describes it
    max_size_bytes: int
    size_bytes: int
    record_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DataRecord:
    key: str
    data: JsonObject = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


# Computes a record's new data from its current data (None: no such key yet) inside the store's
# write transaction, so validation of a merge sees exactly what it merges into. Raising aborts
# the write and propagates.
RecordChange = Callable[[JsonObject | None], JsonObject]


def record_size(key: str, data: JsonObject) -> int:
    """Bytes a record counts against its store's limit (key plus compact JSON), the same in every
    implementation."""
    return len(key.encode("utf-8")) + len(orjson.dumps(data))
