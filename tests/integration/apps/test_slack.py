from __future__ import annotations

import logging

import pytest
from fakes import slack
from fakes.base import bearer_connection as bearer
from scenarist_connector_sdk import ConnectorRuntime, errors

pytestmark = pytest.mark.integration


async def test_post_message_list_channels_and_errors(runtime: ConnectorRuntime) -> None:
    with slack.server() as fake:
        conn = bearer(slack.TOKEN, f"{fake.url}/api")
        [out] = await runtime.execute(
            "slack:CreateMessage", {"channel": "C001", "text": "hello"}, conn
        )
        assert out["channel"] == "C001" and out["ts"] and out["message"]["text"] == "hello"

        channels = await runtime.execute("slack:ListChannels", {}, conn)
        assert [c["id"] for c in channels] == ["C001", "C002", "C003", "C004", "C005"]
        limited = await runtime.execute("slack:ListChannels", {"limit": 3}, conn)
        assert len(limited) == 3

        with pytest.raises(errors.RateLimitError) as limited_exc:
            await runtime.execute("slack:CreateMessage", {"channel": "RATE", "text": "x"}, conn)
        assert limited_exc.value.retry_after == 7
        with pytest.raises(errors.NotFoundError):
            await runtime.execute("slack:CreateMessage", {"channel": "C404", "text": "x"}, conn)
        with pytest.raises(errors.AuthError):
            await runtime.execute(
                "slack:CreateMessage",
                {"channel": "C001", "text": "x"},
                bearer("xoxb-wrong", f"{fake.url}/api"),
            )


async def test_incoming_webhook_keeps_its_url_out_of_logs(
    runtime: ConnectorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with slack.server() as fake:
        url = fake.url + slack.WEBHOOK_PATH
        assert await runtime.execute("slack:PostViaWebhook", {"webhookUrl": url, "text": "hi"}) == [
            {"ok": True}
        ]
        assert fake.state["posted"] == [{"text": "hi"}]
        with pytest.raises(errors.AuthError):
            await runtime.execute(
                "slack:PostViaWebhook",
                {"webhookUrl": fake.url + "/services/T000/B000/GONE", "text": "x"},
            )
    assert "XXXXSECRET" not in caplog.text
