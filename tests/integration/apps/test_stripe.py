from __future__ import annotations

import json
import time

import pytest
from fakes import stripe as fake_stripe
from fakes.base import bearer_connection
from scenarist_connector_sdk import ConnectorRuntime, errors
from scenarist_connectors.stripe import construct_event, sign, verify_signature

pytestmark = pytest.mark.integration

EVENT = {"id": "evt_1", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}


async def test_list_charges_pages_with_starting_after(runtime: ConnectorRuntime) -> None:
    with fake_stripe.server() as fake:
        conn = bearer_connection(fake_stripe.API_KEY, fake.url)
        charges = await runtime.execute("stripe:ListCharges", {}, conn)
        assert [c["id"] for c in charges] == ["ch_1", "ch_2", "ch_3", "ch_4", "ch_5"]
        afters = [r.query.get("starting_after") for r in fake.requests]
        assert afters == [None, ["ch_2"], ["ch_4"]]
        mine = await runtime.execute("stripe:ListCharges", {"customer": "cus_2"}, conn)
        assert [c["id"] for c in mine] == ["ch_2", "ch_4"]
        assert len(await runtime.execute("stripe:ListCharges", {"limit": 3}, conn)) == 3

        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute("stripe:ListCharges", {"customer": "cus_busy"}, conn)
        assert limited.value.retry_after == 2
        with pytest.raises(errors.AuthError, match="invalid_request_error"):
            await runtime.execute("stripe:ListCharges", {}, bearer_connection("sk_bad", fake.url))


def test_signature_verifier() -> None:
    payload = json.dumps(EVENT).encode()
    now = int(time.time())
    header = sign(payload, fake_stripe.WEBHOOK_SECRET, now)
    assert construct_event(payload, header, fake_stripe.WEBHOOK_SECRET)["id"] == "evt_1"
    # Stripe sends one v1 per active secret during a rotation; any match is enough.
    rotated = f"{header},v1={'0' * 64}"
    verify_signature(payload, rotated, fake_stripe.WEBHOOK_SECRET)
    with pytest.raises(errors.AuthError, match="does not match"):
        verify_signature(payload + b" ", header, fake_stripe.WEBHOOK_SECRET)
    with pytest.raises(errors.AuthError, match="does not match"):
        verify_signature(payload, header, "whsec_other")
    with pytest.raises(errors.AuthError, match="tolerance"):
        verify_signature(payload, header, fake_stripe.WEBHOOK_SECRET, now=now + 301)
    with pytest.raises(errors.AuthError, match="no timestamp"):
        verify_signature(payload, "v1=abc", fake_stripe.WEBHOOK_SECRET)


async def test_watch_events_module(runtime: ConnectorRuntime) -> None:
    conn = bearer_connection(fake_stripe.API_KEY, "https://api.stripe.com")
    conn["secrets"]["webhook_secret"] = fake_stripe.WEBHOOK_SECRET
    body = json.dumps(EVENT)
    headers = {
        "Stripe-Signature": sign(body.encode(), fake_stripe.WEBHOOK_SECRET, int(time.time()))
    }
    [event] = await runtime.execute("stripe:WatchEvents", {"body": body, "headers": headers}, conn)
    assert event["type"] == "charge.succeeded"
    assert (
        await runtime.execute(
            "stripe:WatchEvents",
            {"body": body, "headers": headers, "types": ["invoice.paid"]},
            conn,
        )
        == []
    )
    with pytest.raises(errors.AuthError):
        await runtime.execute("stripe:WatchEvents", {"body": body + " ", "headers": headers}, conn)
