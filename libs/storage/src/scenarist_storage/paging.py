"""Opaque keyset page tokens shared by both implementations: base64url(JSON of the last key).

Keyset (not offset) paging: a page costs the same at page 1 and page 10 000, and rows inserted
while a client pages never shift it into duplicates or gaps."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson

from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.models import Page

MAX_PAGE_SIZE = 1000
T = TypeVar("T")


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


def seq_before(kind: str, page_token: str | None) -> int | None:
    """For listings newest first by an insertion sequence (`seq`): the seq the page continues
    below, or None for the first page."""
    return token_int(decode_token(kind, page_token, 1)[0]) if page_token else None


def seq_page(kind: str, rows: Sequence[tuple[int, T]], page_size: int) -> Page[T]:
    """The page of (seq, item) rows fetched newest first with one row beyond `page_size`: that
    extra row only tells that another page follows, continuing below the page's last seq."""
    token = encode_token(kind, [rows[page_size - 1][0]]) if len(rows) > page_size else None
    return Page([item for _, item in rows[:page_size]], token)
