from __future__ import annotations

import logging
from typing import Any

import pytest
from fakes import openai, telegram
from fakes.base import bearer_connection
from scenarist_connector_sdk import ConnectorRuntime, errors
from scenarist_connector_sdk.polling import read_poll_result

pytestmark = pytest.mark.integration


def bot(base_url: str, token: str = telegram.TOKEN) -> dict[str, Any]:
    return {"type": "api_key", "parameters": {"base_url": base_url}, "secrets": {"api_key": token}}


async def test_telegram_send_and_watch_updates(
    runtime: ConnectorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with telegram.server() as fake:
        conn = bot(fake.url)
        [message] = await runtime.execute(
            "telegram:SendMessage", {"chat_id": "7", "text": "hi"}, conn
        )
        assert message["message_id"] == 42 and message["text"] == "hi"

        start = read_poll_result(await runtime.execute("telegram:WatchUpdates", {}, conn))
        assert start.bundles == [] and start.cursor == "0"
        telegram.add_update(fake, 100, "one")
        telegram.add_update(fake, 101, "two")
        first = read_poll_result(
            await runtime.execute("telegram:WatchUpdates", {"cursor": start.cursor}, conn)
        )
        assert [u["message"]["text"] for u in first.bundles] == ["one", "two"]
        assert first.cursor == "102"
        idle = read_poll_result(
            await runtime.execute("telegram:WatchUpdates", {"cursor": first.cursor}, conn)
        )
        assert idle.bundles == [] and idle.cursor == "102"

        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute("telegram:SendMessage", {"chat_id": "flood", "text": "x"}, conn)
        assert limited.value.retry_after == 5
        with pytest.raises(errors.NotFoundError, match="chat not found"):
            await runtime.execute("telegram:SendMessage", {"chat_id": "nobody", "text": "x"}, conn)
        with pytest.raises(errors.AuthError):
            await runtime.execute(
                "telegram:SendMessage", {"chat_id": "7", "text": "x"}, bot(fake.url, "1:wrong")
            )
    assert telegram.TOKEN not in caplog.text
    assert "wrong" not in caplog.text


async def test_openai_chat_completion(runtime: ConnectorRuntime) -> None:
    with openai.server() as fake:
        conn = bearer_connection(openai.API_KEY, f"{fake.url}/v1")
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ]
        [out] = await runtime.execute(
            "openai:CreateChatCompletion",
            {"model": "gpt-test", "messages": messages, "temperature": 0.2},
            conn,
        )
        assert out["message"] == {"role": "assistant", "content": "echo: Hi (t=0.2)"}
        assert out["usage"]["total_tokens"] == 12 and out["finish_reason"] == "stop"
        assert fake.requests[0].json()["temperature"] == 0.2

        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute(
                "openai:CreateChatCompletion", {"model": "busy", "messages": messages}, conn
            )
        assert limited.value.retry_after == 4
        with pytest.raises(errors.NotFoundError, match="model_not_found"):
            await runtime.execute(
                "openai:CreateChatCompletion", {"model": "nope", "messages": messages}, conn
            )
        with pytest.raises(errors.AuthError, match="invalid_api_key"):
            await runtime.execute(
                "openai:CreateChatCompletion",
                {"model": "gpt-test", "messages": messages},
                bearer_connection("sk-wrong", f"{fake.url}/v1"),
            )
