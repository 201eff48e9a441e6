"""Reading a request body within the webhook's size limit.

Compressed bodies are refused (415): decompressing would let a few kilobytes on the wire become
gigabytes in memory, and webhook senders do not need it.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from scenarist_trigger.problems import Problem


def too_large(limit: int) -> Problem:
    return Problem(
        413, "body-too-large", "Payload too large", f"the body exceeds the limit of {limit} bytes"
    )


def check_encoding(request: Request) -> None:
    encodings = [
        part.strip().lower()
        for part in request.headers.get("content-encoding", "").split(",")
        if part.strip()
    ]
    if any(encoding != "identity" for encoding in encodings):
        raise Problem(
            415,
            "unsupported-encoding",
            "Unsupported content encoding",
            "compressed bodies are not accepted; send Content-Encoding: identity",
        )


async def read_body(request: Request, limit: int) -> bytes:
    check_encoding(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Problem(400, "bad-request", "Bad request", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise Problem(400, "bad-request", "Bad request", "the client disconnected") from exc
    return b"".join(chunks)
