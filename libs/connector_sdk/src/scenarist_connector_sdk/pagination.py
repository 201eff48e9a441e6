"""Pagination as async generators of items, so a search can stream one bundle per result.

Each helper takes a small ``fetch`` callable that does one request and returns the page's items
(and, for cursors, the next cursor). Every helper stops at ``max_pages`` so a misbehaving API
(a cursor that never ends, a "next" link pointing at itself) cannot keep a module running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from scenarist_connector_sdk.http import HttpResponse, SafeHttpClient

__all__ = ["by_cursor", "by_link_header", "by_offset", "by_page", "take"]

T = TypeVar("T")

DEFAULT_MAX_PAGES = 100


async def by_page(
    fetch: Callable[[int], Awaitable[Sequence[T]]],
    *,
    first: int = 1,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """Pages numbered ``first``, ``first + 1`` ... until an empty page."""
    for number in range(first, first + max_pages):
        items = await fetch(number)
        if not items:
            return
        for item in items:
            yield item


async def by_offset(
    fetch: Callable[[int, int], Awaitable[Sequence[T]]],
    *,
    limit: int,
    start: int = 0,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """``fetch(offset, limit)`` until a page comes back shorter than ``limit``."""
    offset = start
    for _ in range(max_pages):
        items = await fetch(offset, limit)
        for item in items:
            yield item
        if len(items) < limit:
            return
        offset += len(items)


async def by_cursor(
    fetch: Callable[[str | None], Awaitable[tuple[Sequence[T], str | None]]],
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[T]:
    """``fetch(cursor) -> (items, next_cursor)`` until the cursor is empty or repeats."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        items, cursor = await fetch(cursor)
        for item in items:
            yield item
        if not cursor or cursor in seen:
            return
        seen.add(cursor)


async def by_link_header(
    http: SafeHttpClient,
    url: str,
    items: Callable[[HttpResponse], Sequence[T]],
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
    **request: Any,
) -> AsyncIterator[T]:
    """GET ``url`` and follow ``Link: <...>; rel="next"`` (GitHub style) page by page."""
    next_url: str | None = url
    seen: set[str] = set()
    for _ in range(max_pages):
        if next_url is None or next_url in seen:
            return
        seen.add(next_url)
        response = await http.get(next_url, **request)
        for item in items(response):
            yield item
        next_url = response.links.get("next")
        request.pop("params", None)  # the next link carries its own query


async def take(items: AsyncIterator[T], limit: int) -> list[T]:
    """At most ``limit`` items, closing the generator so no further page is fetched."""
    taken: list[T] = []
    if limit <= 0:
        return taken
    try:
        async for item in items:
            taken.append(item)
            if len(taken) >= limit:
                break
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
    return taken
