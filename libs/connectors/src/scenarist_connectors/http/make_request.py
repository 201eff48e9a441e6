"""``http:MakeRequest``: any method, body and auth, through the SSRF-guarded client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenarist_connector_sdk import ActionContext, HttpResponse, raise_for_status

from scenarist_connectors.http.pagination import paginate
from scenarist_connectors.http.request import Bundle, body, bundle, log_line, pairs


async def make_request(ctx: ActionContext, inputs: dict[str, Any]) -> list[Bundle]:
    method = str(inputs.get("method") or "get").upper()
    base_params = pairs(inputs.get("qs"), "qs")
    headers = pairs(inputs.get("headers"), "headers")
    payload = body(inputs)
    given = {name.lower() for name, _ in headers}
    headers += [(k, v) for k, v in payload.pop("headers", {}).items() if k.lower() not in given]
    if inputs.get("idempotencyKey") and ctx.run.idempotency_key and "idempotency-key" not in given:
        headers.append(("Idempotency-Key", ctx.run.idempotency_key))

    async def send(url: str, extra: list[tuple[str, str]]) -> HttpResponse:
        params = [*base_params, *extra] if extra or base_params else None
        response = await ctx.http.request(
            method,
            url,
            params=params,
            headers=headers,
            timeout=float(inputs.get("timeout") or 40),
            follow_redirects=bool(inputs.get("followRedirect", True)),
            **payload,
        )
        log_line(ctx, method, url, response)
        if inputs.get("handleErrors"):
            raise_for_status(response)
        return response

    parse = bool(inputs.get("parseResponse", True))
    config = inputs.get("pagination")
    pages = paginate(send, str(inputs["url"]), config) if isinstance(config, Mapping) else None
    if pages is None:
        return [bundle(await send(str(inputs["url"]), []), parse=parse)]
    return [bundle(response, parse=parse) async for response in pages]
