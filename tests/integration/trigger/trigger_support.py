"""Helpers of the trigger integration tests (a plain module: conftest modules of different test
directories share one name, so tests import helpers from here)."""

from __future__ import annotations

import asyncio
import http.client
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import grpc
import orjson
from scenarist.run.v1.events_pb2 import RunEvent, RunRequested
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist.trigger.v1 import webhook_service_pb2_grpc as pb_grpc
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import Consumer
from scenarist_runtime.host import Hosted
from scenarist_storage.memory import MemoryIdentityStore


class AnyScenario:
    """Stands in for the orchestrator's scenario check where the trigger is hosted alone: every
    scenario id is the caller's (tests/integration/trigger/test_scenario_tenancy.py checks the
    real one)."""

    async def require(self, context: Any, scenario_id: uuid.UUID) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def http_request(
    url: str,
    method: str = "POST",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """A blocking HTTP call (run it with asyncio.to_thread: the server shares our loop)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=dict(headers or {}))
        raw = conn.getresponse()
        return Reply(raw.status, {k.lower(): v for k, v in raw.getheaders()}, raw.read())
    finally:
        conn.close()


@dataclass
class TriggerStack:
    hosted: Hosted
    bus: LocalBus
    identity: MemoryIdentityStore
    channel: grpc.aio.Channel
    requests: Consumer
    org: uuid.UUID
    auth: tuple[tuple[str, str], ...] = ()
    seen: list[RunRequested] = field(default_factory=list)

    @property
    def api(self) -> pb_grpc.WebhookServiceStub:
        return pb_grpc.WebhookServiceStub(self.channel)

    async def create(
        self,
        scenario_id: str | None = None,
        auth: webhook_pb2.WebhookAuth.ValueType = webhook_pb2.WEBHOOK_AUTH_NONE,
        **options: Any,
    ) -> pb.CreateWebhookResponse:
        request = pb.CreateWebhookRequest(
            scenario_id=str(uuid.uuid4()) if scenario_id is None else scenario_id,
            name="test hook",
            auth=auth,
            options=webhook_pb2.WebhookOptions(**options),
        )
        response: pb.CreateWebhookResponse = await self.api.CreateWebhook(
            request, metadata=self.auth
        )
        return response

    def url(self, path: str) -> str:
        return self.hosted.http_url.rstrip("/") + path

    async def call(
        self,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> Reply:
        return await asyncio.to_thread(http_request, self.url(path), method, body, headers)

    async def next_request(self, timeout: float = 5.0) -> RunRequested:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for record in await self.requests.getmany(timeout_ms=200):
                decoded = envelope.unwrap(record)
                self.seen.append(envelope.payload_as(decoded, RunRequested))
            if self.seen:
                return self.seen.pop(0)
        raise AssertionError("no RunRequested arrived")

    async def publish_event(self, event: RunEvent) -> None:
        producer = await self.bus.producer()
        await producer.send(
            envelope.wrap(
                topics.RUNS_EVENTS,
                event,
                event_type=envelope.RUN_EVENT,
                run_id=event.run_id,
                organization_id=event.organization_id,
                source="test-orchestrator",
            )
        )


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = reply.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body
