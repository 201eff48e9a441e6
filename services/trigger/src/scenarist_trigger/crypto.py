"""Sealing of webhook URL tokens and signing secrets with AES-256-GCM.

A sealed value is ``b"\\x01" + nonce(12) + ciphertext+tag``; the webhook id is the associated
data, so a sealed value copied onto another webhook's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scenarist_trigger.settings import TriggerSettings

log = logging.getLogger(__name__)

_VERSION = b"\x01"
_NONCE = 12


class SealError(Exception):
    """A sealed value that does not open with this key (wrong key, tampered, or foreign row)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the webhook secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, bound_to)

    def open(self, sealed: bytes, bound_to: bytes) -> bytes:
        if sealed[:1] != _VERSION or len(sealed) < 1 + _NONCE + 16:
            raise SealError("unknown sealed format")
        try:
            return self._aead.decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], bound_to)
        except InvalidTag as exc:
            raise SealError("sealed value does not open with this key") from exc


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), altchars=b"-_")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook_secret_key is not base64") from exc
    if len(key) != 32:
        raise ValueError("webhook_secret_key must decode to 32 bytes")
    return key


def load_box(settings: TriggerSettings) -> SecretBox:
    if settings.webhook_secret_key is not None:
        return SecretBox(decode_key(settings.webhook_secret_key.get_secret_value()))
    if settings.mode != "standalone":
        raise ValueError("set SCENARIST_WEBHOOK_SECRET_KEY (base64 of 32 random bytes)")
    return SecretBox(_key_file(Path(settings.webhook_key_file).expanduser()))


def _key_file(path: Path) -> bytes:
    """Standalone convenience: a key generated once and kept (0600) beside the user's data."""
    if path.exists():
        return decode_key(path.read_text(encoding="ascii"))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another standalone process won the race: use its key
        return decode_key(path.read_text(encoding="ascii"))
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode("ascii"))
    log.warning("generated a webhook secret key", extra={"path": str(path)})
    return key
