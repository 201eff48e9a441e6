"""Opaque keyset page tokens shared by both implementations: base64url(JSON of the last key).

Keyset (not offset) paging: a page costs the same at page 1 and page 10 000, and rows inserted
while a client pages never shift it into duplicates or gaps."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import orjson

from scenarist_storage.errors import InvalidPageTokenError

MAX_PAGE_SIZE = 1000


def check_page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
    return page_size


def encode_token(kind: str, key: list[Any]) -> str:
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(kind: str, token: str, arity: int) -> list[Any]:
    """The key stored in `token`; `kind` stops a scenario token from paging runs."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError, ValueError) as exc:
        raise InvalidPageTokenError("malformed page token") from exc
    if not isinstance(value, list) or len(value) != arity + 1 or value[0] != kind:
        raise InvalidPageTokenError("page token does not belong to this listing")
    return value[1:]


def token_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidPageTokenError("malformed page token") from exc


def token_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidPageTokenError("malformed page token")
    return value
