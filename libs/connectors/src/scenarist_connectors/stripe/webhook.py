"""Stripe webhook signatures: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]``.

``v1`` is HMAC-SHA256 with the endpoint's signing secret (``whsec_...``) over
``"<t>.<raw body>"``. The timestamp bounds replays: older (or newer) than ``tolerance`` seconds
is refused. Pure functions, so the trigger service can verify before it enqueues anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from scenarist_connector_sdk import errors

__all__ = ["DEFAULT_TOLERANCE", "construct_event", "sign", "verify_signature"]

DEFAULT_TOLERANCE = 300


def _parse(header: str) -> tuple[int, list[str]]:
    stamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if stamp is None or not signatures:
        raise errors.AuthError("Stripe-Signature has no timestamp or no v1 signature")
    return stamp, signatures


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe would send (for fakes and tests)."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    payload: bytes | str,
    header: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise :class:`errors.AuthError` unless ``header`` signs ``payload`` (raw body) recently."""
    if not secret:
        raise errors.AuthError("no Stripe webhook signing secret is configured")
    body = payload.encode() if isinstance(payload, str) else payload
    stamp, signatures = _parse(header or "")
    expected = sign(body, secret, stamp).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise errors.AuthError("Stripe-Signature does not match the payload")
    current = time.time() if now is None else now
    if tolerance > 0 and abs(current - stamp) > tolerance:
        raise errors.AuthError("Stripe-Signature timestamp is outside the tolerance")


def construct_event(
    payload: bytes | str,
    header: str,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify, then parse the event object."""
    verify_signature(payload, header, secret, tolerance=tolerance, now=now)
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise errors.InvalidInputError(f"Stripe event is not JSON: {exc}") from exc
    if not isinstance(event, dict) or event.get("object") != "event":
        raise errors.InvalidInputError("Stripe payload is not an event object")
    return event
