"""Issuing a webhook's URL token and caller credential, sealed or hashed for storage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from scenarist.trigger.v1 import webhook_pb2
from scenarist_storage.webhook_models import WebhookAuthData, WebhookAuthType, WebhookRecord

from scenarist_trigger import credentials
from scenarist_trigger.crypto import SealError, SecretBox

DEFAULT_BASIC_USER = "scenarist"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_hash: bytes
    sealed: bytes


@dataclass(frozen=True)
class IssuedAuth:
    data: WebhookAuthData
    secret: webhook_pb2.WebhookSecret | None  # shown once


def issue_token(box: SecretBox, webhook_id: uuid.UUID) -> IssuedToken:
    token = credentials.new_url_token()
    sealed = box.seal(token.encode("ascii"), webhook_id.bytes)
    return IssuedToken(token, credentials.token_hash(token), sealed)


def open_token(box: SecretBox, record: WebhookRecord) -> str | None:
    try:
        return box.open(record.sealed_token, record.id.bytes).decode("ascii")
    except (SealError, UnicodeDecodeError):
        return None  # sealed under another key: the URL cannot be shown, it still works


def issue_auth(
    box: SecretBox,
    webhook_id: uuid.UUID,
    kind: WebhookAuthType,
    username: str = "",
    *,
    previous: WebhookAuthData | None = None,
    previous_expires_at: datetime | None = None,
) -> IssuedAuth:
    if kind is WebhookAuthType.API_KEY:
        key = credentials.new_api_key()
        data = WebhookAuthData(kind, secret_hash=credentials.secret_hash(key))
        return IssuedAuth(data, webhook_pb2.WebhookSecret(api_key=key))
    if kind is WebhookAuthType.BASIC:
        user = username or DEFAULT_BASIC_USER
        password = credentials.new_password()
        data = WebhookAuthData(kind, username=user, secret_hash=credentials.secret_hash(password))
        basic = webhook_pb2.BasicCredentials(username=user, password=password)
        return IssuedAuth(data, webhook_pb2.WebhookSecret(basic=basic))
    if kind is WebhookAuthType.STANDARD_WEBHOOKS:
        secret = credentials.new_signing_secret()
        keep_previous = previous is not None and previous_expires_at is not None
        data = WebhookAuthData(
            kind,
            sealed_secret=box.seal(secret.encode("ascii"), webhook_id.bytes),
            previous_sealed_secret=previous.sealed_secret if keep_previous and previous else None,
            previous_expires_at=previous_expires_at if keep_previous else None,
        )
        return IssuedAuth(data, webhook_pb2.WebhookSecret(signing_secret=secret))
    return IssuedAuth(WebhookAuthData(WebhookAuthType.NONE), None)
