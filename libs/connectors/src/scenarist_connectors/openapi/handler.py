"""Running an imported operation: inputs onto path, query, headers and body; pages followed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from scenarist_connector_sdk import ActionContext, HttpResponse, ModuleKind, errors
from scenarist_connector_sdk.pagination import by_cursor, by_link_header, by_offset, by_page

from scenarist_connectors._api import check
from scenarist_connectors.openapi.document import Operation

__all__ = ["Target", "handler_for"]

Handler = Callable[[ActionContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Target:
    """What every operation of one imported document shares."""

    base_url: str
    api_key: tuple[str, str] | None = None  # (parameter name, "header" or "query")


def _dig(value: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _as_bundle(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


def _message(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return ""


class _Call:
    """One module call: the request every page repeats, and how to read a page's items."""

    def __init__(self, op: Operation, app: str, target: Target, ctx: ActionContext) -> None:
        self.op, self.app, self.ctx = op, app, ctx
        default_base = target.base_url
        base = (ctx.parameters.get("base_url") or default_base).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise errors.ConfigurationError(
                f"{app}: set the connection's base_url (the document's server is {base!r})"
            )
        self.base = base
        self.http = ctx.http.with_auth(None) if op.anonymous else ctx.http
        # A connection saved without the key's name gets the document's: the SDK's API-key
        # authenticator would otherwise send the generic X-API-Key.
        self.key: tuple[str, str, str] | None = None
        key = ctx.secrets.get("api_key", "")
        if ctx.connection_type == "api_key" and not ctx.parameters.get("name") and target.api_key:
            self.http = ctx.http.with_auth(None)
            self.key = (*target.api_key, key) if not op.anonymous else None

    def request(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        path = self.op.path
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        body: dict[str, Any] = {}
        whole: Any = None
        for param in self.op.params:
            value = inputs.get(param.name)
            if value is None or value == "":
                continue
            if param.location == "path":
                path = path.replace("{" + param.wire + "}", quote(str(value), safe=""))
            elif param.location == "query":
                query[param.wire] = _query_value(value)
            elif param.location == "header":
                headers[param.wire] = str(value)
            elif param.wire:
                body[param.wire] = value
            else:
                whole = value
        if "{" in path:
            raise errors.InvalidInputError(f"{self.app}: path parameters missing in {path}")
        if self.key is not None:
            name, placement, value = self.key
            (headers if placement == "header" else query)[name] = value
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        payload = body if self.op.body_object else whole
        if self.op.body == "json" and (payload or self.op.body_object):
            kwargs["json"] = payload
        elif self.op.body == "form":
            kwargs["data"] = payload
        elif self.op.body == "raw" and payload is not None:
            kwargs["content"] = payload if isinstance(payload, bytes) else str(payload)
            headers["Content-Type"] = self.op.body_content_type
        return self.base + path, kwargs

    async def send(self, url: str, **kwargs: Any) -> Any:
        response = await self.http.request(self.op.method, url, **kwargs)
        return self.parse(response)

    def parse(self, response: HttpResponse) -> Any:
        if response.ok and response.content and "json" not in response.content_type:
            return response.text
        return check(response, self.app, _message)

    def items(self, body: Any) -> Sequence[Any]:
        found = _dig(body, self.op.items_path) if self.op.items_path else body
        return found if isinstance(found, list) else []


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def handler_for(op: Operation, app: str, target: Target) -> Handler:
    if op.kind is ModuleKind.SEARCH:

        async def search(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[Any]:
            call = _Call(op, app, target, ctx)
            async for item in _pages(call, inputs):
                yield _as_bundle(item)

        return search

    async def action(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
        call = _Call(op, app, target, ctx)
        url, kwargs = call.request(inputs)
        body = await call.send(url, **kwargs)
        return [_as_bundle(body if body is not None else {})]

    return action


def _pages(call: _Call, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    url, kwargs = call.request(inputs)
    rule = call.op.pagination
    params: dict[str, Any] = kwargs.pop("params")

    def fetch(extra: dict[str, Any]) -> Awaitable[Any]:
        return call.send(url, params={**params, **extra}, **kwargs)

    if rule is None:
        return _single(fetch, call)
    if rule.type == "link":
        return _links(call, url, params, kwargs)
    if rule.type == "offset":

        async def by_offset_page(offset: int, limit: int) -> Sequence[Any]:
            return call.items(await fetch({rule.offset_param: offset, rule.limit_param: limit}))

        return by_offset(by_offset_page, limit=rule.limit)
    if rule.type == "page":

        async def by_number(number: int) -> Sequence[Any]:
            size = {rule.limit_param: rule.limit} if rule.limit_param else {}
            return call.items(await fetch({rule.page_param: number, **size}))

        return by_page(by_number)

    async def by_next(cursor: str | None) -> tuple[Sequence[Any], str | None]:
        body = await fetch({rule.cursor_param: cursor} if cursor else {})
        following = _dig(body, rule.cursor_path)
        return call.items(body), str(following) if following else None

    return by_cursor(by_next)


async def _single(
    fetch: Callable[[dict[str, Any]], Awaitable[Any]], call: _Call
) -> AsyncIterator[Any]:
    for item in call.items(await fetch({})):
        yield item


async def _links(
    call: _Call, url: str, params: dict[str, Any], kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    async for item in by_link_header(
        call.http, url, lambda r: call.items(call.parse(r)), params=params, **kwargs
    ):
        yield item
