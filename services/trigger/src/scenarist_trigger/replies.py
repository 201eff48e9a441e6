"""What a waiting caller gets: the Webhook response module's answer, "Accepted", or 202.

Scenario-built answers are served defensively: only valid header names and values pass, headers
that could hijack the platform's origin (cookies, CORS, hop-by-hop) are dropped, every answer is
`nosniff`, and HTML (or XML/SVG) is sandboxed by CSP so it cannot script the origin it is
served from (CVE-2025-61914).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from starlette.responses import Response

from scenarist_trigger.problems import Problem

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_FORBIDDEN_VALUE = re.compile(r"[\r\n\x00]")
_DROPPED = frozenset(
    {
        "set-cookie",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "trailer",
        "te",
        "content-encoding",
        "content-security-policy",
        "x-content-type-options",
        "strict-transport-security",
    }
)
_ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript")
SANDBOX_CSP = "sandbox; default-src 'none'"
# The orchestrator's error type for a run refused because its inactive scenario's queue is full.
QUEUE_FULL = "QueueFullError"


def accepted(run_id: str) -> Response:
    return _json(200, {"accepted": True, "run_id": run_id})


def queued(run_id: str) -> Response:
    return _json(202, {"accepted": True, "run_id": run_id, "status": "queued"})


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(body),
        status,
        media_type="application/json",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def from_event(event: RunEvent, run_id: str) -> Response:
    if event.type == RunEventType.RUN_EVENT_TYPE_QUEUED:
        return queued(run_id)
    if event.type == RunEventType.RUN_EVENT_TYPE_CANCELLED and event.error.type == QUEUE_FULL:
        # Make answers 400 "Queue is full"; the request was not accepted, so nothing will run.
        # Raised, so the ingress answers and counts it like its other refusals.
        raise Problem(400, "queue-full", "Queue is full", event.error.message or QUEUE_FULL)
    if not event.result:
        return accepted(run_id)
    try:
        answer = orjson.loads(event.result)
    except orjson.JSONDecodeError:
        return accepted(run_id)
    if not isinstance(answer, dict):
        return accepted(run_id)
    return scenario_response(answer)


def _status(raw: Any) -> int:
    try:
        status = int(raw)
    except (TypeError, ValueError):
        return 200
    return status if 200 <= status <= 599 else 200


def _pairs(raw: Any) -> list[tuple[str, str]]:
    """Make's [{key, value}] list or a {name: value} object."""
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [(h.get("key"), h.get("value")) for h in raw if isinstance(h, dict)]
    else:
        return []
    pairs = []
    for name, value in items:
        text = "" if value is None else str(value)
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            continue
        if _FORBIDDEN_VALUE.search(text) or name.lower() in _DROPPED or len(text) > 8192:
            continue
        pairs.append((name, text))
    return pairs[:100]


def scenario_response(answer: dict[str, Any]) -> Response:
    headers = _pairs(answer.get("headers"))
    body = answer.get("body")
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    if isinstance(body, str):
        payload = body.encode("utf-8")
        content_type = content_type or "text/plain; charset=utf-8"
    elif body is None:
        payload = b""
    else:
        payload = orjson.dumps(body)
        content_type = content_type or "application/json"
    status = _status(answer.get("status", 200))
    if status in (204, 304):
        payload = b""  # HTTP forbids a body here; sending one would break the connection
    response = Response(payload, status)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers.append(name, value)
    if content_type is not None:
        response.headers["content-type"] = content_type
    response.headers["x-content-type-options"] = "nosniff"
    if content_type is None or any(t in content_type.lower() for t in _ACTIVE_TYPES):
        response.headers["content-security-policy"] = SANDBOX_CSP
    return response
