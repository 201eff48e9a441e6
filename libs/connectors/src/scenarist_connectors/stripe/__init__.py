"""Stripe: ``stripe:ListCharges`` (search) and ``stripe:WatchEvents`` (signed webhook).

Errors are ``{"error": {"type", "code", "message", "param"}}``; lists are
``{"object": "list", "data": [...], "has_more"}`` paged with ``starting_after=<last id>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    ModuleKind,
    ModuleSpec,
)
from scenarist_connector_sdk.pagination import by_cursor

from scenarist_connectors._api import base_url, base_url_field, check
from scenarist_connectors.stripe.webhook import construct_event, sign, verify_signature

__all__ = ["connector", "construct_event", "sign", "verify_signature"]

API = "https://api.stripe.com"

connector = Connector(
    AppSpec(
        "stripe",
        "1.0.0",
        "Stripe",
        "List charges; watch events delivered to a signed webhook.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "Secret or restricted API key",
                (
                    FieldSpec(
                        "token", FieldType.TEXT, "API key (sk_...)", required=True, secret=True
                    ),
                    FieldSpec(
                        "webhook_secret",
                        FieldType.TEXT,
                        "Webhook signing secret (whsec_...)",
                        secret=True,
                    ),
                    base_url_field(API),
                ),
            ),
        ),
    )
)

CHARGE = [
    FieldSpec("id", FieldType.TEXT, "ID"),
    FieldSpec("amount", FieldType.INTEGER, "Amount (smallest currency unit)"),
    FieldSpec("currency", FieldType.TEXT, "Currency"),
    FieldSpec("status", FieldType.TEXT, "Status"),
    FieldSpec("paid", FieldType.BOOLEAN, "Paid"),
    FieldSpec("customer", FieldType.TEXT, "Customer ID"),
    FieldSpec("description", FieldType.TEXT, "Description"),
    FieldSpec("created", FieldType.INTEGER, "Created (Unix time)"),
]


def _message(body: Any) -> str:
    error = body.get("error") or {}
    return " ".join(str(error.get(k)) for k in ("type", "code", "message") if error.get(k))


@connector.search(
    "ListCharges",
    label="List charges",
    connection_required=True,
    max_results=1000,
    inputs=[
        FieldSpec("customer", FieldType.TEXT, "Customer ID"),
        FieldSpec("created_gte", FieldType.INTEGER, "Created at or after (Unix time)"),
        FieldSpec("limit", FieldType.INTEGER, "Maximum number of results", default=100),
    ],
    outputs=CHARGE,
)
async def list_charges(ctx: ActionContext, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    url = f"{base_url(ctx, API)}/v1/charges"
    params = {"limit": "100"}
    if inputs.get("customer"):
        params["customer"] = str(inputs["customer"])
    if inputs.get("created_gte") is not None:
        params["created[gte]"] = str(inputs["created_gte"])

    async def page(after: str | None) -> tuple[Sequence[Any], str | None]:
        query = {**params, "starting_after": after} if after else params
        body = check(await ctx.http.get(url, params=query), "Stripe", _message)
        data = list(body.get("data") or [])
        return data, (str(data[-1]["id"]) if body.get("has_more") and data else None)

    async for charge in by_cursor(page):
        yield charge


@connector.module(
    ModuleSpec(
        "WatchEvents",
        ModuleKind.INSTANT_TRIGGER,
        label="Watch events",
        description="Verifies a webhook delivery's Stripe-Signature with the connection's "
        "signing secret and emits the event, if its type is one of 'types' (all when empty).",
        connection_required=True,
        inputs=(
            FieldSpec("body", FieldType.TEXT, "Raw request body", required=True),
            FieldSpec("headers", FieldType.COLLECTION, "Request headers", required=True),
            FieldSpec("types", FieldType.ARRAY, "Event types (charge.succeeded ...)"),
        ),
        outputs=(
            FieldSpec("id", FieldType.TEXT, "Event ID"),
            FieldSpec("type", FieldType.TEXT, "Type"),
            FieldSpec("created", FieldType.INTEGER, "Created (Unix time)"),
            FieldSpec("data", FieldType.COLLECTION, "Data", fields=(FieldSpec("object"),)),
            FieldSpec("livemode", FieldType.BOOLEAN, "Live mode"),
        ),
    )
)
async def watch_events(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    headers: Mapping[str, Any] = {k.lower(): v for k, v in inputs["headers"].items()}
    secret = ctx.secrets.get("webhook_secret", "")
    event = construct_event(str(inputs["body"]), str(headers.get("stripe-signature", "")), secret)
    types = [str(t) for t in inputs.get("types") or []]
    return [event] if not types or event.get("type") in types else []
