"""A webhook's "determine data structure" capture: armed on request, it keeps the next request's
parsed body (bounded), then disarms. Kept apart from the webhook row so payloads are stored only
for webhooks a person asked to capture."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MAX_CAPTURE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    webhook_id: uuid.UUID
    org_id: uuid.UUID
    waiting: bool
    requested_at: datetime
    captured_at: datetime | None
    content_type: str
    body: bytes  # the parsed body as JSON text; empty when too large
    body_bytes: int
    too_large: bool


class CaptureStore(Protocol):
    async def arm(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord:
        """Wait for the next request, discarding an earlier capture."""
        ...

    async def get(self, org_id: uuid.UUID, webhook_id: uuid.UUID) -> CaptureRecord | None: ...

    async def waiting(self) -> set[uuid.UUID]:
        """Webhooks (of any organization) waiting for a request: the ingress checks this set."""
        ...

    async def capture(
        self, webhook_id: uuid.UUID, content_type: str, body: bytes
    ) -> CaptureRecord | None:
        """Keep this request if the webhook is waiting (first request wins); None otherwise.
        Bodies above MAX_CAPTURE_BYTES are recorded by size only."""
        ...
