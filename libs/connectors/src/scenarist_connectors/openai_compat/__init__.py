"""An OpenAI-compatible chat completion: ``openai:CreateChatCompletion``.

``POST {base_url}/chat/completions`` (base URL default ``https://api.openai.com/v1``; any
compatible server works). Errors are ``{"error": {"message", "type", "param", "code"}}``.
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
    Option,
    errors,
)

from scenarist_connectors._api import base_url, base_url_field, check

__all__ = ["connector"]

API = "https://api.openai.com/v1"

connector = Connector(
    AppSpec(
        "openai",
        "1.0.0",
        "OpenAI-compatible",
        "Chat completions from OpenAI or any server speaking its API.",
        connection_types=(
            ConnectionTypeSpec(
                "bearer",
                "API key",
                (
                    FieldSpec("token", FieldType.TEXT, "API key", required=True, secret=True),
                    FieldSpec("organization", FieldType.TEXT, "Organization ID"),
                    base_url_field(API),
                ),
            ),
        ),
    )
)

_MESSAGE = (
    FieldSpec(
        "role",
        FieldType.SELECT,
        "Role",
        required=True,
        options=tuple(Option(r) for r in ("system", "user", "assistant", "tool")),
    ),
    FieldSpec("content", FieldType.TEXT, "Content", required=True),
)
_USAGE = tuple(
    FieldSpec(name, FieldType.INTEGER)
    for name in ("prompt_tokens", "completion_tokens", "total_tokens")
)


def _message(body: Any) -> str:
    error = body.get("error") or {}
    return f"{error.get('code') or error.get('type') or ''} {error.get('message', '')}".strip()


@connector.action(
    "CreateChatCompletion",
    label="Create a chat completion",
    connection_required=True,
    inputs=[
        FieldSpec("model", FieldType.TEXT, "Model", required=True),
        FieldSpec("messages", FieldType.ARRAY, "Messages", required=True, fields=_MESSAGE),
        FieldSpec("temperature", FieldType.NUMBER, "Temperature"),
        FieldSpec("max_tokens", FieldType.INTEGER, "Maximum tokens"),
        FieldSpec("timeout", FieldType.NUMBER, "Timeout (seconds)", default=120),
    ],
    outputs=[
        FieldSpec("message", FieldType.COLLECTION, "Message", fields=_MESSAGE),
        FieldSpec("finish_reason", FieldType.TEXT, "Finish reason"),
        FieldSpec("usage", FieldType.COLLECTION, "Usage", fields=_USAGE),
        FieldSpec("id", FieldType.TEXT, "ID"),
        FieldSpec("model", FieldType.TEXT, "Model"),
    ],
)
async def create_chat_completion(
    ctx: ActionContext, inputs: dict[str, Any]
) -> list[dict[str, Any]]:
    messages = [
        {"role": str(m.get("role")), "content": m.get("content")}
        for m in inputs["messages"]
        if isinstance(m, dict)
    ]
    if not messages:
        raise errors.InvalidInputError("OpenAI: 'messages' needs at least one {role, content}")
    payload: dict[str, Any] = {"model": inputs["model"], "messages": messages}
    for name in ("temperature", "max_tokens"):
        if inputs.get(name) is not None:
            payload[name] = inputs[name]
    headers = {}
    if ctx.parameters.get("organization"):
        headers["OpenAI-Organization"] = ctx.parameters["organization"]
    response = await ctx.http.post(
        f"{base_url(ctx, API)}/chat/completions",
        json=payload,
        headers=headers,
        timeout=float(inputs.get("timeout") or 120),
    )
    body = check(response, "OpenAI", _message)
    choices = body.get("choices") or []
    if not choices:
        raise errors.InvalidInputError("OpenAI: the response has no choices")
    return [
        {
            "message": choices[0].get("message"),
            "finish_reason": choices[0].get("finish_reason"),
            "usage": body.get("usage"),
            "id": body.get("id"),
            "model": body.get("model"),
        }
    ]
