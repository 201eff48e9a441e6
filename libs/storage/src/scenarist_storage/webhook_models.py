"""Records of the trigger service's webhooks, crossing the WebhookStore port.

Secrets never reach storage in clear: API keys and basic passwords are kept as SHA-256 hashes
(they are random, high-entropy values we generate, so a fast hash is enough), while the URL token
and a Standard Webhooks signing secret, which must be shown or used for HMAC again, arrive sealed
(encrypted by the service); storage treats sealed values as opaque bytes."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from scenarist_storage.models import JsonObject


class WebhookAuthType(enum.StrEnum):
    NONE = "none"
    API_KEY = "api_key"
    BASIC = "basic"
    STANDARD_WEBHOOKS = "standard_webhooks"


@dataclass(frozen=True, slots=True)
class WebhookAuthData:
    type: WebhookAuthType = WebhookAuthType.NONE
    username: str = ""  # basic only
    secret_hash: bytes | None = None  # SHA-256 of the API key or basic password
    sealed_secret: bytes | None = None  # encrypted signing secret (standard webhooks)
    # The signing secret replaced by the last rotation, valid until `previous_expires_at`.
    previous_sealed_secret: bytes | None = None
    previous_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """What `WebhookStore.create` stores. The id is chosen by the caller so sealed values can be
    bound to it (the id is the associated data of their encryption)."""

    id: uuid.UUID
    org_id: uuid.UUID
    scenario_id: uuid.UUID | None
    name: str
    token_hash: bytes  # SHA-256 of the URL token: the ingress looks webhooks up by it
    sealed_token: bytes  # the token itself, encrypted, so the URL can be shown again
    auth: WebhookAuthData = field(default_factory=WebhookAuthData)
    options: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: uuid.UUID
    org_id: uuid.UUID
    scenario_id: uuid.UUID | None  # None: detached
    name: str
    token_hash: bytes
    sealed_token: bytes
    auth: WebhookAuthData
    options: JsonObject
    created_at: datetime
    rotated_at: datetime | None
