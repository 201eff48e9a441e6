"""Sealing the per-user service API tokens (AES-256-GCM).

The studio calls the gRPC APIs with a token of the user's organization and role. Unlike a
password that token must be presented again, so it cannot be hashed: it is sealed with a key
that lives outside the database (settings or a 0600 key file), so a database dump alone does
not reveal working tokens. The user id is the associated data, so a sealed token copied onto
another user's row does not open.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Sealer", "load_or_create_key"]

_NONCE = 12
KEY_FILE = "studio.key"


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the studio secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        return self._aead.decrypt(nonce, body, context.encode()).decode()


def decode_key(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))


def load_or_create_key(directory: Path) -> bytes:
    """The key in `directory/studio.key`, created (mode 0600) on first use."""
    path = directory / KEY_FILE
    if path.exists():
        return decode_key(path.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return decode_key(path.read_text())
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode())
    return key
