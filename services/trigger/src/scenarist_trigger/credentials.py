"""URL tokens, caller credentials and Standard Webhooks signatures (standardwebhooks.com).

Signature: ``webhook-signature: v1,<base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}"))>``,
several space-separated during key rotation; the secret is ``whsec_<base64>`` and the HMAC key is
its decoded bytes. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SIGNING_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60
MAX_SIGNATURE_HEADER = 4096


def new_url_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def new_api_key() -> str:
    return "whk_" + secrets.token_urlsafe(32)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


def secret_matches(given: str, stored: bytes | None) -> bool:
    return stored is not None and hmac.compare_digest(secret_hash(given), stored)


def new_signing_secret() -> str:
    return SIGNING_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (the prefix is optional, as in the reference libs)."""
    body = secret.removeprefix(SIGNING_PREFIX)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("signing secret is not base64") from exc


def sign(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


class SignatureError(Exception):
    """Why a Standard Webhooks request is refused (the message is safe to show the caller)."""


def verify(
    keys: Sequence[bytes],
    msg_id: str | None,
    timestamp: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    now: float,
) -> None:
    """Raise SignatureError unless one v1 signature matches one of `keys` within tolerance."""
    if not msg_id or not timestamp or not signature_header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if len(signature_header) > MAX_SIGNATURE_HEADER:
        raise SignatureError("webhook-signature header is too long")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp is outside the 5-minute tolerance")
    given = [
        part.split(",", 1)[1].encode("ascii", "replace")
        for part in signature_header.split(" ")
        if part.startswith("v1,")
    ]
    expected = [sign(key, msg_id, timestamp, body)[3:].encode("ascii") for key in keys]
    # Every pair is compared (no early exit) so timing says nothing about which one matched.
    matched = False
    for candidate in given:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate, wanted)
    if not matched:
        raise SignatureError("no valid v1 signature for this body")
