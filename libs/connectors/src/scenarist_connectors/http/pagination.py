"""MakeRequest's native pagination: the same request, page after page, one bundle per page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from scenarist_connector_sdk import HttpResponse, InvalidInputError

from scenarist_connectors.http.request import dig

# (url, extra query params) -> response; the caller owns method, headers, body and auth.
Send = Callable[[str, list[tuple[str, str]]], Awaitable[HttpResponse]]

HARD_MAX_PAGES = 100


def _items(response: HttpResponse, path: str) -> list[Any]:
    if not response.content or not response.ok:
        return []
    data = response.json()
    found = dig(data, path) if path else data
    return found if isinstance(found, list) else []


async def _by_page(
    send: Send, url: str, cfg: Mapping[str, Any], pages: int
) -> AsyncIterator[HttpResponse]:
    start = int(cfg.get("startPage") or 1)
    for number in range(start, start + pages):
        response = await send(url, [(str(cfg.get("pageParam") or "page"), str(number))])
        yield response
        if not _items(response, str(cfg.get("itemsPath") or "")):
            return


async def _by_offset(
    send: Send, url: str, cfg: Mapping[str, Any], pages: int
) -> AsyncIterator[HttpResponse]:
    limit = int(cfg.get("limit") or 100)
    offset = 0
    for _ in range(pages):
        params = [
            (str(cfg.get("offsetParam") or "offset"), str(offset)),
            (str(cfg.get("limitParam") or "limit"), str(limit)),
        ]
        response = await send(url, params)
        yield response
        count = len(_items(response, str(cfg.get("itemsPath") or "")))
        if count < limit:
            return
        offset += count


async def _by_cursor(
    send: Send, url: str, cfg: Mapping[str, Any], pages: int
) -> AsyncIterator[HttpResponse]:
    path = str(cfg.get("cursorPath") or "")
    if not path:
        raise InvalidInputError("cursor pagination needs 'cursorPath'")
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(pages):
        params = [(str(cfg.get("cursorParam") or "cursor"), cursor)] if cursor else []
        response = await send(url, params)
        yield response
        found = dig(response.json(), path) if response.ok and response.content else None
        cursor = str(found) if found not in (None, "") else None
        if cursor is None or cursor in seen:
            return
        seen.add(cursor)


async def _by_link(
    send: Send, url: str, cfg: Mapping[str, Any], pages: int
) -> AsyncIterator[HttpResponse]:
    next_url: str | None = url
    seen: set[str] = set()
    for _ in range(pages):
        if next_url is None or next_url in seen:
            return
        seen.add(next_url)
        response = await send(next_url, [])
        yield response
        next_url = response.links.get("next")


_STRATEGIES = {"page": _by_page, "offset": _by_offset, "cursor": _by_cursor, "link": _by_link}


def paginate(send: Send, url: str, cfg: Mapping[str, Any]) -> AsyncIterator[HttpResponse] | None:
    """The page responses for ``cfg["type"]``; ``None`` when pagination is off."""
    kind = str(cfg.get("type") or "none")
    if kind == "none":
        return None
    strategy = _STRATEGIES.get(kind)
    if strategy is None:
        raise InvalidInputError(f"unknown pagination type {kind!r}")
    pages = max(1, min(int(cfg.get("maxPages") or 10), HARD_MAX_PAGES))
    return strategy(send, url, cfg, pages)
