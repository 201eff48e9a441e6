"""Checking a caller against the webhook's authentication kind (before anything is parsed)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from datetime import UTC, datetime

from scenarist_storage.webhook_models import WebhookAuthType, WebhookRecord
from starlette.datastructures import Headers

from scenarist_trigger import credentials
from scenarist_trigger.crypto import SealError, SecretBox
from scenarist_trigger.options import WebhookOptions
from scenarist_trigger.problems import Problem, unauthorized


def signing_keys(record: WebhookRecord, box: SecretBox, now: float) -> list[bytes]:
    """The current signing key and, during its grace period, the rotated-out one."""
    auth, bound = record.auth, record.id.bytes
    sealed = [auth.sealed_secret]
    expires = auth.previous_expires_at
    if auth.previous_sealed_secret and expires and expires > datetime.fromtimestamp(now, UTC):
        sealed.append(auth.previous_sealed_secret)
    keys = []
    for value in sealed:
        if value is None:
            continue
        try:
            keys.append(credentials.signing_key(box.open(value, bound).decode("ascii")))
        except (SealError, ValueError, UnicodeDecodeError):
            continue  # a key we cannot open verifies nothing; the caller gets 401
    return keys


def _basic(headers: Headers) -> tuple[str, str] | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def check_caller(
    record: WebhookRecord,
    options: WebhookOptions,
    headers: Headers,
    body: bytes,
    *,
    box: SecretBox,
    clock: Callable[[], float] = time.time,
) -> None:
    auth = record.auth
    if auth.type is WebhookAuthType.NONE:
        return
    if auth.type is WebhookAuthType.API_KEY:
        keys = [headers.get(name) for name in options.api_key_headers]
        given = [key for key in keys if key]
        if not given:
            raise unauthorized(f"send the API key in the {options.api_key_headers[0]} header")
        if not any(credentials.secret_matches(key, auth.secret_hash) for key in given):
            raise unauthorized("invalid API key")
        return
    if auth.type is WebhookAuthType.BASIC:
        pair = _basic(headers)
        if pair is None:
            raise unauthorized("HTTP basic authentication required", basic=True)
        user_ok = credentials.secret_matches(pair[0], credentials.secret_hash(auth.username))
        password_ok = credentials.secret_matches(pair[1], auth.secret_hash)
        if not (user_ok and password_ok):
            raise unauthorized("invalid username or password", basic=True)
        return
    if auth.type is WebhookAuthType.STANDARD_WEBHOOKS:
        now = clock()
        try:
            credentials.verify(
                signing_keys(record, box, now),
                headers.get("webhook-id"),
                headers.get("webhook-timestamp"),
                headers.get("webhook-signature"),
                body,
                now=now,
            )
        except credentials.SignatureError as exc:
            raise unauthorized(str(exc)) from None
        return
    raise Problem(401, "unauthorized", "Unauthorized", "unsupported authentication")
