"""Telegram Bot API: ``telegram:SendMessage`` and ``telegram:WatchUpdates`` (polling).

The bot token is part of the path (``/bot<token>/<method>``), so requests go out without
connection auth and httpx's URL logging is masked (see ``_api.mask_url_path``). Replies are
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description", "parameters":
{"retry_after"}}``.
"""

from __future__ import annotations

from typing import Any

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    HttpResponse,
    Option,
    errors,
)
from scenarist_connector_sdk.polling import poll_fields, poll_limit, poll_result, starts_now

from scenarist_connectors._api import base_url, base_url_field, fail, json_body

__all__ = ["connector"]

API = "https://api.telegram.org"

connector = Connector(
    AppSpec(
        "telegram",
        "1.0.0",
        "Telegram Bot",
        "Send messages and watch updates of a bot.",
        connection_types=(
            ConnectionTypeSpec(
                "api_key",
                "Bot token from @BotFather",
                (
                    FieldSpec("api_key", FieldType.TEXT, "Token", required=True, secret=True),
                    base_url_field(API),
                ),
            ),
        ),
    )
)

MESSAGE = [
    FieldSpec("message_id", FieldType.INTEGER, "Message ID"),
    FieldSpec("chat", FieldType.COLLECTION, "Chat", fields=(FieldSpec("id", FieldType.INTEGER),)),
    FieldSpec("from", FieldType.COLLECTION, "From"),
    FieldSpec("date", FieldType.INTEGER, "Date (Unix time)"),
    FieldSpec("text", FieldType.TEXT, "Text"),
]


async def _call(ctx: ActionContext, method: str, payload: dict[str, Any]) -> Any:
    token = ctx.secrets.get("api_key", "")
    if not token:
        raise errors.AuthError("Telegram: the connection has no bot token")
    url = f"{base_url(ctx, API)}/bot{token}/{method}"
    response = await ctx.http.with_auth(None).post(url, json=payload)
    return _result(response)


def _result(response: HttpResponse) -> Any:
    body = json_body(response)
    if isinstance(body, dict) and body.get("ok") and response.ok:
        return body.get("result")
    if not isinstance(body, dict):
        fail(response, "Telegram", "unexpected response")
    description = str(body.get("description") or "")
    code = int(body.get("error_code") or response.status_code)
    retry = (body.get("parameters") or {}).get("retry_after")
    if code == 429:
        raise errors.RateLimitError(
            f"Telegram: {description}",
            retry_after=float(retry) if retry is not None else None,
            status_code=code,
        )
    if code == 400 and "not found" in description.lower():
        code = 404
    fail(response, "Telegram", description, status=code)


@connector.action(
    "SendMessage",
    label="Send a text message or a reply",
    connection_required=True,
    inputs=[
        FieldSpec("chat_id", FieldType.TEXT, "Chat ID or @channel", required=True),
        FieldSpec("text", FieldType.TEXT, "Text", required=True),
        FieldSpec(
            "parse_mode",
            FieldType.SELECT,
            "Parse mode",
            options=(Option(""), Option("MarkdownV2"), Option("HTML")),
        ),
        FieldSpec("reply_to_message_id", FieldType.INTEGER, "Reply to message ID"),
        FieldSpec("disable_notification", FieldType.BOOLEAN, "Send silently", default=False),
    ],
    outputs=MESSAGE,
)
async def send_message(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {
        "chat_id": inputs["chat_id"],
        "text": inputs["text"],
        "disable_notification": inputs.get("disable_notification", False),
    }
    for name in ("parse_mode", "reply_to_message_id"):
        if inputs.get(name):
            payload[name] = inputs[name]
    return [await _call(ctx, "sendMessage", payload)]


@connector.trigger(
    "WatchUpdates",
    label="Watch updates",
    description="getUpdates with offset = cursor (last update_id + 1). Fetching with an offset "
    "confirms the earlier updates to Telegram, so the bot must not have a webhook set.",
    connection_required=True,
    inputs=poll_fields(
        FieldSpec("allowed_updates", FieldType.ARRAY, "Update types (message, callback_query ...)")
    ),
    outputs=[
        FieldSpec("update_id", FieldType.INTEGER, "Update ID"),
        FieldSpec("message", FieldType.COLLECTION, "Message", fields=tuple(MESSAGE)),
    ],
)
async def watch_updates(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    if starts_now(inputs):
        latest = await _call(ctx, "getUpdates", {"offset": -1, "limit": 1, "timeout": 0})
        # "0" (not ""): polled, nothing pending; the next poll takes every update from here.
        return poll_result([], int(latest[-1]["update_id"]) + 1 if latest else 0)
    cursor = str(inputs.get("cursor") or "")
    payload: dict[str, Any] = {"limit": min(poll_limit(inputs), 100), "timeout": 0}
    if cursor.lstrip("-").isdigit():
        payload["offset"] = int(cursor)
    if inputs.get("allowed_updates"):
        payload["allowed_updates"] = list(inputs["allowed_updates"])
    updates = list(await _call(ctx, "getUpdates", payload) or [])
    next_offset = int(updates[-1]["update_id"]) + 1 if updates else cursor
    return poll_result(updates, next_offset)
