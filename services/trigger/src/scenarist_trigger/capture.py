""" "Determine data structure": a webhook asked to capture keeps its next request's parsed body.

The ingress must not pay a database round trip per request for this, so it checks an in-process
copy of the (tiny) set of waiting webhooks, refreshed at most every `refresh_seconds` and at once
when this process arms a capture. Another replica's arming is therefore seen within that delay.
Only webhooks a person armed ever have a payload stored, and only one request each.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist_storage.capture_models import CaptureRecord, CaptureStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class CaptureGate:
    def __init__(
        self,
        store: CaptureStore,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._refresh = refresh_seconds
        self._clock = clock
        self._waiting: set[uuid.UUID] = set()
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def arm(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord:
        record = await self.store.arm(org_id, webhook_id)
        self._waiting.add(webhook_id)
        return record

    async def _is_waiting(self, webhook_id: uuid.UUID) -> bool:
        if self._clock() - self._read_at >= self._refresh:
            async with self._lock:  # one refresh serves every request waiting on it
                if self._clock() - self._read_at >= self._refresh:
                    self._waiting = await self.store.waiting()
                    self._read_at = self._clock()
        return webhook_id in self._waiting

    async def wants(self, webhook_id: uuid.UUID) -> bool:
        """Whether the webhook waits for a capture; False when that cannot be read (a capture
        is a convenience: the request goes through either way)."""
        try:
            return await self._is_waiting(webhook_id)
        except Exception as exc:
            log.warning("reading the waiting captures failed", exc_info=exc)
            return False

    async def offer(self, webhook_id: uuid.UUID, content_type: str, data: Any) -> None:
        """Record `data` if the webhook waits for a capture. Never fails the request."""
        try:
            if not await self._is_waiting(webhook_id):
                return
            body = orjson.dumps(data, default=str)
            await self.store.capture(webhook_id, content_type, body)
            self._waiting.discard(webhook_id)
        except Exception as exc:  # a capture is a convenience: the request must go through
            log.warning("capturing a webhook request failed", exc_info=exc)


def capture_message(webhook_id: str, record: CaptureRecord | None) -> pb.DataStructureCapture:
    message = pb.DataStructureCapture(webhook_id=webhook_id)
    if record is None:
        return message
    message.waiting = record.waiting
    message.requested_at.FromDatetime(record.requested_at)
    if record.captured_at is not None:
        message.captured_at.FromDatetime(record.captured_at)
        message.content_type = record.content_type
        message.body = record.body.decode("utf-8", errors="replace")
        message.body_bytes = record.body_bytes
        message.too_large = record.too_large
    return message
