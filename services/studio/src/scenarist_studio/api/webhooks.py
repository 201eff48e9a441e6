"""The webhook panel: a scenario's webhooks with their URLs, creating and rotating them, and
"determine data structure" (capture the next request, derive its structure, save it)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist_storage.models import Role
from starlette.responses import Response

from scenarist_studio.context import Ctx
from scenarist_studio.routing import Endpoint
from scenarist_studio.structure import structure_of
from scenarist_studio.views import json_text, secret_view, time_text, webhook_view

_AUTH = {
    "none": webhook_pb2.WEBHOOK_AUTH_NONE,
    "api_key": webhook_pb2.WEBHOOK_AUTH_API_KEY,
    "basic": webhook_pb2.WEBHOOK_AUTH_BASIC,
    "standard_webhooks": webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS,
}


class NewWebhook(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    auth: Literal["none", "api_key", "basic", "standard_webhooks"] = "none"


class DataStructure(BaseModel):
    # The trigger validates the definition itself (names, types, depth).
    fields: list[dict[str, Any]] = Field(max_length=500)


class Rotation(BaseModel):
    rotate_url: bool = False
    rotate_secret: bool = False


def _with_url(ctx: Ctx, view: dict[str, Any]) -> dict[str, Any]:
    """The configured public base wins; else the trigger's own URL; else this server's."""
    base = ctx.studio.options.hooks_base_url
    if base or not view["url"]:
        base = base or str(ctx.request.base_url)
        view["url"] = base.rstrip("/") + view["url_path"]
    return view


async def list_webhooks(ctx: Ctx) -> dict[str, Any]:
    request = pb.ListWebhooksRequest(scenario_id=ctx.param("scenario_id"), page_size=100)
    page = await ctx.call(ctx.studio.clients.webhooks.ListWebhooks, request)
    return {"webhooks": [_with_url(ctx, webhook_view(w)) for w in page.webhooks]}


async def create_webhook(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(NewWebhook)
    request = pb.CreateWebhookRequest(
        scenario_id=ctx.param("scenario_id"), name=body.name, auth=_AUTH[body.auth]
    )
    created = await ctx.call(ctx.studio.clients.webhooks.CreateWebhook, request)
    secret = secret_view(created.secret) if created.HasField("secret") else None
    return {"webhook": _with_url(ctx, webhook_view(created.webhook)), "secret": secret}


async def rotate_webhook(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(Rotation)
    request = pb.RotateWebhookRequest(
        webhook_id=ctx.param("webhook_id"),
        rotate_url=body.rotate_url,
        rotate_secret=body.rotate_secret,
    )
    rotated = await ctx.call(ctx.studio.clients.webhooks.RotateWebhook, request)
    secret = secret_view(rotated.secret) if rotated.HasField("secret") else None
    return {"webhook": _with_url(ctx, webhook_view(rotated.webhook)), "secret": secret}


def capture_view(c: pb.DataStructureCapture) -> dict[str, Any]:
    body = json_text(c.body) if c.body else None
    return {
        "waiting": c.waiting,
        "requested_at": time_text(c, "requested_at"),
        "captured_at": time_text(c, "captured_at"),
        "content_type": c.content_type,
        "body": body,
        "body_bytes": c.body_bytes,
        "too_large": c.too_large,
        "structure": structure_of(body) if c.HasField("captured_at") else None,
    }


async def start_capture(ctx: Ctx) -> dict[str, Any]:
    request = pb.StartDataStructureCaptureRequest(webhook_id=ctx.param("webhook_id"))
    started = await ctx.call(ctx.studio.clients.webhooks.StartDataStructureCapture, request)
    return capture_view(started.capture)


async def get_capture(ctx: Ctx) -> dict[str, Any]:
    request = pb.GetCapturedRequestRequest(webhook_id=ctx.param("webhook_id"))
    found = await ctx.call(ctx.studio.clients.webhooks.GetCapturedRequest, request)
    return capture_view(found.capture)


async def save_structure(ctx: Ctx) -> dict[str, Any]:
    webhook_id = ctx.param("webhook_id")
    current = await ctx.call(
        ctx.studio.clients.webhooks.GetWebhook, pb.GetWebhookRequest(webhook_id=webhook_id)
    )
    options = webhook_pb2.WebhookOptions()
    options.CopyFrom(current.webhook.options)  # every other option stays as it is
    fields = ctx.payload(DataStructure).fields
    options.data_structure = json.dumps(fields) if fields else ""
    request = pb.UpdateWebhookRequest(webhook_id=webhook_id, options=options)
    updated = await ctx.call(ctx.studio.clients.webhooks.UpdateWebhook, request)
    return _with_url(ctx, webhook_view(updated.webhook))


async def delete_webhook(ctx: Ctx) -> Response:
    request = pb.DeleteWebhookRequest(webhook_id=ctx.param("webhook_id"))
    await ctx.call(ctx.studio.clients.webhooks.DeleteWebhook, request)
    return Response(status_code=204)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/scenarios/{scenario_id}/webhooks",
        list_webhooks,
        "Webhooks attached to a scenario",
        "webhooks",
    ),
    Endpoint(
        "POST",
        "/scenarios/{scenario_id}/webhooks",
        create_webhook,
        "Create a webhook for a scenario (its secret is shown once)",
        "webhooks",
        role=Role.EDITOR,
        body=NewWebhook,
        status=201,
    ),
    Endpoint(
        "POST",
        "/webhooks/{webhook_id}/rotate",
        rotate_webhook,
        "Issue a new URL and/or secret",
        "webhooks",
        role=Role.EDITOR,
        body=Rotation,
    ),
    Endpoint(
        "DELETE",
        "/webhooks/{webhook_id}",
        delete_webhook,
        "Delete a webhook",
        "webhooks",
        role=Role.EDITOR,
        status=204,
    ),
    Endpoint(
        "POST",
        "/webhooks/{webhook_id}/capture",
        start_capture,
        "Determine data structure: record the webhook's next request",
        "webhooks",
        role=Role.EDITOR,
    ),
    Endpoint(
        "GET",
        "/webhooks/{webhook_id}/capture",
        get_capture,
        "The recorded request and the data structure derived from it",
        "webhooks",
    ),
    Endpoint(
        "PUT",
        "/webhooks/{webhook_id}/data-structure",
        save_structure,
        "Save the data structure incoming requests must match (empty: any body)",
        "webhooks",
        role=Role.EDITOR,
        body=DataStructure,
    ),
)
