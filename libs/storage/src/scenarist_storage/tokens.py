"""API token format and hashing, shared by both IdentityStore implementations.

A token reads `sct_<token id hex>_<43 chars of urlsafe randomness>`. The id lets us find the row
with an index lookup; only SHA-256(secret) is stored, compared in constant time, so a database
leak does not hand out working tokens and timing does not reveal how much of a guess matched."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

PREFIX = "sct"


def new_secret(token_id: uuid.UUID) -> str:
    return f"{PREFIX}_{token_id.hex}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def parse_token_id(secret: str) -> uuid.UUID | None:
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 32:
        return None
    try:
        return uuid.UUID(hex=parts[1])
    except ValueError:
        return None


def matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
