"""Live run view: RunService.StreamRunEvents relayed to the browser as Server-Sent Events.

`GET /api/runs/{run_id}/events` answers text/event-stream with one `run` event per RunEvent
(its status and operations), then `end` when the run is over, or `failed` (a problem body) if the
stream failed. Comment lines keep idle connections open through proxies. The browser refetches
the run's steps on each event and falls back to polling if the stream drops (runOnce.ts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from scenarist.run.v1 import events_pb2, run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from starlette.responses import Response, StreamingResponse

from scenarist_studio.context import Ctx
from scenarist_studio.problems import ApiError
from scenarist_studio.routing import Endpoint

STREAM_SECONDS = 3600.0  # the browser reconnects (or polls) after this
KEEPALIVE_SECONDS = 15.0

Message = tuple[str, dict[str, Any]]


def event_view(e: events_pb2.RunEvent) -> dict[str, Any]:
    return {
        "run_id": e.run_id,
        "type": events_pb2.RunEventType.Name(e.type).removeprefix("RUN_EVENT_TYPE_").lower(),
        "status": run_pb2.RunStatus.Name(e.status).removeprefix("RUN_STATUS_").lower(),
        "operations": e.operations,
        "error": {"type": e.error.type, "message": e.error.message}
        if e.HasField("error")
        else None,
    }


def sse(kind: str, data: dict[str, Any]) -> bytes:
    """One event; JSON never contains a raw newline, so `data:` is a single line."""
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _pump(items: AsyncIterator[Any], queue: asyncio.Queue[Message]) -> None:
    try:
        async for item in items:
            await queue.put(("run", event_view(item.event)))
        await queue.put(("end", {}))
    except ApiError as error:
        await queue.put(("failed", error.body()))


async def relay(
    items: AsyncIterator[Any], keepalive: float = KEEPALIVE_SECONDS
) -> AsyncIterator[bytes]:
    """The SSE byte stream of a StreamRunEvents call. A reader task feeds a queue so waiting
    for the keepalive never cancels the gRPC stream itself."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    reader = asyncio.create_task(_pump(items, queue))
    try:
        yield b"retry: 2000\n\n"
        while True:
            try:
                kind, data = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            yield sse(kind, data)
            if kind != "run":
                return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        closer = getattr(items, "aclose", None)
        if closer is not None:
            await closer()


async def run_events(ctx: Ctx) -> Response:
    run_id = ctx.param("run_id")
    # Answer 404/403 as a problem before committing to a 200 stream.
    await ctx.call(ctx.studio.clients.runs.GetRun, pb.GetRunRequest(run_id=run_id))
    items = ctx.studio.clients.stream(
        ctx.studio.clients.runs.StreamRunEvents,
        pb.StreamRunEventsRequest(run_id=run_id),
        ctx.user.grpc_token,
        STREAM_SECONDS,
    )
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(relay(items), media_type="text/event-stream", headers=headers)


ENDPOINTS = (
    Endpoint(
        "GET",
        "/runs/{run_id}/events",
        run_events,
        "Live run events as Server-Sent Events (text/event-stream)",
        "runs",
    ),
)
