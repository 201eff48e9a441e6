"""Slack: ``slack:CreateMessage``, ``slack:ListChannels`` and ``slack:PostViaWebhook``.

Web API calls answer HTTP 200 with ``{"ok": false, "error": "..."}`` on most failures; the
error code decides the typed error. Rate limits come as 429 with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTest,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    HttpResponse,
    errors,
)
from scenarist_connector_sdk.pagination import by_cursor

from scenarist_connectors._api import base_url, base_url_field, fail, json_body, mask_url_path

__all__ = ["connector"]

API = "https://slack.com/api"

connector = Connector(
    AppSpec(
        "slack",
        "1.0.0",
        "Slack",
        "Post messages and list channels with the Slack Web API; post via incoming webhooks.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "Slack bot or user token",
                (
                    FieldSpec(
                        "token", FieldType.TEXT, "Token (xoxb-...)", required=True, secret=True
                    ),
                    base_url_field(API),
                ),
            ),
        ),
        connection_test=ConnectionTest("/auth.test", API, "POST", "ok", "team"),
    )
)

_AUTH = {
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "ekm_access_denied",
}
_NOT_FOUND = {"channel_not_found", "user_not_found", "thread_not_found", "message_not_found"}


def _status_of(error: str) -> int:
    if error in _AUTH:
        return 401
    if error in _NOT_FOUND:
        return 404
    if error == "ratelimited":
        return 429
    return 400


def _result(response: HttpResponse) -> dict[str, Any]:
    body = json_body(response)
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    if not response.ok:
        fail(response, "Slack", error)
    if not isinstance(body, dict):
        raise errors.InvalidInputError("Slack: the response is not a JSON object")
    if not body.get("ok"):
        fail(response, "Slack", error or "unknown error", status=_status_of(error))
    return body


@connector.action(
    "CreateMessage",
    label="Create a message",
    description="chat.postMessage: send a message to a channel, a DM or a thread.",
    connection_required=True,
    inputs=[
        FieldSpec("channel", FieldType.TEXT, "Channel ID or name", required=True),
        FieldSpec("text", FieldType.TEXT, "Text", required=True),
        FieldSpec("thread_ts", FieldType.TEXT, "Thread message ID (ts)"),
        FieldSpec("mrkdwn", FieldType.BOOLEAN, "Format with markdown", default=True),
    ],
    outputs=[
        FieldSpec("channel", FieldType.TEXT, "Channel ID"),
        FieldSpec("ts", FieldType.TEXT, "Message ID (ts)"),
        FieldSpec("message", FieldType.COLLECTION, "Message"),
    ],
)
async def create_message(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {
        "channel": inputs["channel"],
        "text": inputs["text"],
        "mrkdwn": inputs.get("mrkdwn", True),
    }
    if inputs.get("thread_ts"):
        payload["thread_ts"] = str(inputs["thread_ts"])
    response = await ctx.http.post(f"{base_url(ctx, API)}/chat.postMessage", json=payload)
    body = _result(response)
    return [{"channel": body.get("channel"), "ts": body.get("ts"), "message": body.get("message")}]


_CHANNEL = [
    FieldSpec("id", FieldType.TEXT, "Channel ID"),
    FieldSpec("name", FieldType.TEXT, "Name"),
    FieldSpec("is_private", FieldType.BOOLEAN, "Private"),
    FieldSpec("is_archived", FieldType.BOOLEAN, "Archived"),
    FieldSpec("num_members", FieldType.INTEGER, "Members"),
    FieldSpec("created", FieldType.INTEGER, "Created (Unix time)"),
]


@connector.search(
    "ListChannels",
    label="List channels",
    description="conversations.list, following response_metadata.next_cursor.",
    connection_required=True,
    max_results=1000,
    inputs=[
        FieldSpec("types", FieldType.TEXT, "Types", default="public_channel,private_channel"),
        FieldSpec("exclude_archived", FieldType.BOOLEAN, "Exclude archived", default=True),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=_CHANNEL,
)
async def list_channels(
    ctx: ActionContext, inputs: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    url = f"{base_url(ctx, API)}/conversations.list"

    async def page(cursor: str | None) -> tuple[Sequence[dict[str, Any]], str | None]:
        params = {
            "types": str(inputs.get("types") or "public_channel"),
            "exclude_archived": "true" if inputs.get("exclude_archived", True) else "false",
            "limit": "200",
        }
        if cursor:
            params["cursor"] = cursor
        body = _result(await ctx.http.get(url, params=params))
        metadata = body.get("response_metadata") or {}
        return list(body.get("channels") or []), metadata.get("next_cursor") or None

    async for channel in by_cursor(page):
        yield channel


@connector.action(
    "PostViaWebhook",
    label="Post via incoming webhook",
    description="Post a message to the channel an incoming webhook URL is bound to.",
    inputs=[
        FieldSpec(
            "webhookUrl",
            FieldType.URL,
            "Webhook URL",
            required=True,
            secret=True,
            help="https://hooks.slack.com/services/T.../B.../...",
        ),
        FieldSpec("text", FieldType.TEXT, "Text", required=True),
        FieldSpec("blocks", FieldType.ARRAY, "Blocks (Block Kit JSON)"),
    ],
    outputs=[FieldSpec("ok", FieldType.BOOLEAN, "Posted")],
)
async def post_via_webhook(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    payload: dict[str, Any] = {"text": inputs["text"]}
    if inputs.get("blocks"):
        payload["blocks"] = inputs["blocks"]
    # The URL is the credential: no connection auth, and its path never goes into a message.
    try:
        response = await ctx.http.with_auth(None).post(str(inputs["webhookUrl"]), json=payload)
    except errors.ConnectorError as exc:
        exc.message = mask_url_path(exc.message)
        exc.args = (exc.message,)
        raise
    if response.status_code == 404 and response.text.strip() == "no_service":
        raise errors.AuthError("Slack: the incoming webhook no longer exists (no_service)")
    if not response.ok:
        fail(response, "Slack webhook", response.text.strip()[:200])
    return [{"ok": True}]
