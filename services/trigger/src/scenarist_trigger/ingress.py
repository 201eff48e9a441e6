"""`/hooks/{token}`: one request in, one durable RunRequested out, then the run's answer.

Order matters: cheap refusals first (unknown URL, IP, rate), then the bounded body read,
authentication (signatures need the exact bytes), parsing and validation. A 2xx is only sent
after the bus acknowledged the request (Kafka acks=all).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from opentelemetry.trace import SpanKind
from scenarist.run.v1.events_pb2 import RunEvent, RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist_bus import envelope, topics
from scenarist_bus.ids import new_id
from scenarist_bus.port import BusError, MessageTooLargeError, Producer
from scenarist_observability.metrics import METRICS
from scenarist_observability.tracing import get_tracer, service_scope
from scenarist_runtime.claim_check import ClaimChecks
from scenarist_runtime.http import DirectRoute
from scenarist_storage.errors import StorageError
from scenarist_storage.ports import WebhookStore
from scenarist_storage.webhook_models import WebhookRecord
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scenarist_trigger import credentials, replies
from scenarist_trigger.body import read_body
from scenarist_trigger.bundle import build_bundle
from scenarist_trigger.caller_auth import check_caller
from scenarist_trigger.capture import CaptureGate
from scenarist_trigger.crypto import SecretBox
from scenarist_trigger.guards import (
    RateLimiter,
    allowed,
    client_address,
    parse_networks,
    retry_after_header,
)
from scenarist_trigger.json_check import check_json
from scenarist_trigger.options import WebhookOptions, from_json
from scenarist_trigger.parsers import Parsed, is_json, parse_body
from scenarist_trigger.problems import Problem, not_found, problem_response, unavailable
from scenarist_trigger.settings import TriggerSettings
from scenarist_trigger.structure import validate
from scenarist_trigger.waiter import ResponseWaiter

log = logging.getLogger(__name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_TOKEN_CHARS = 128
MAX_IDEMPOTENCY_KEY = 255
_JSON_OBJECT = re.compile(rb"[ \t\r\n]*\{")  # JSON's whitespace, then an object


@dataclass
class Ingress:
    store: WebhookStore
    box: SecretBox
    producer: Producer
    waiter: ResponseWaiter
    settings: TriggerSettings
    limiter: RateLimiter
    clock: Callable[[], float] = time.time
    captures: CaptureGate | None = None  # "determine data structure" captures
    # Bodies above its threshold are stored and sent by reference; None: always inline.
    claims: ClaimChecks | None = None

    def routes(self) -> list[Route]:
        return [DirectRoute("/hooks/", "token", self.endpoint, methods=METHODS, name="webhook")]

    async def endpoint(self, request: Request) -> Response:
        # The run's trace starts here. A caller's traceparent is not continued: anyone on the
        # internet can call a webhook, and must not choose our trace ids or sampling.
        with (
            service_scope("trigger"),
            get_tracer().start_as_current_span(
                f"{request.method} /hooks/{{token}}",
                kind=SpanKind.SERVER,
                attributes={"http.request.method": request.method, "http.route": "/hooks/{token}"},
            ) as span,
        ):
            response = await self._answer(request)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _answer(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await self.handle(request)
            METRICS.webhook_requests.labels("accepted", "none").inc()
        except Problem as problem:
            METRICS.webhook_requests.labels("refused", problem.slug).inc()
            response = problem_response(problem)
        METRICS.webhook_request_duration.observe(time.perf_counter() - started)
        return response

    async def handle(self, request: Request) -> Response:
        record = await self._find(str(request.path_params.get("token", "")))
        options = from_json(record.options)
        self._check_network(request, options)
        self._check_rate(record, options)
        limit = options.max_body_bytes or self.settings.webhook_max_body_bytes
        body = await read_body(request, limit)
        check_caller(record, options, request.headers, body, box=self.box, clock=self.clock)
        if record.scenario_id is None:
            raise Problem(
                410, "webhook-detached", "Webhook not attached", "no scenario uses this webhook"
            )
        trigger = await self._body_as_bundle(request, record, body, options)
        if trigger is None:
            # Otherwise a body exists up to three times on its way (bytes, parsed, the bundle's
            # JSON): each copy is dropped as soon as the next exists, none kept while the run runs.
            parsed = self._parse(request, body, options)
            del body
            trigger = await self._bundle(request, record, parsed, options)
            del parsed
        else:
            del body
        message = await self._message(request, record, trigger)
        del trigger
        return await self._deliver(message)

    async def _find(self, token: str) -> WebhookRecord:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise not_found()
        try:
            record = await self.store.find_by_token_hash(credentials.token_hash(token))
        except (StorageError, OSError) as exc:
            log.warning("webhook lookup failed", exc_info=exc)
            raise unavailable("the webhook store is unavailable; retry later") from None
        if record is None:
            raise not_found()
        return record

    def _check_network(self, request: Request, options: WebhookOptions) -> None:
        networks = options.networks
        if not networks:
            return
        peer = request.client.host if request.client else None
        trusted = parse_networks(self.settings.webhook_trusted_proxies)
        address = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
        if not allowed(address, networks):
            raise Problem(
                403, "ip-not-allowed", "Forbidden", "requests from this address are not allowed"
            )

    def _check_rate(self, record: WebhookRecord, options: WebhookOptions) -> None:
        per_minute = options.rate_per_minute or self.settings.webhook_default_rate_per_minute
        wait = self.limiter.acquire(str(record.id), per_minute)
        if wait > 0:
            raise Problem(
                429,
                "rate-limited",
                "Too many requests",
                f"this webhook accepts {per_minute} requests per minute",
                headers={"Retry-After": retry_after_header(wait)},
            )

    async def _body_as_bundle(
        self, request: Request, record: WebhookRecord, body: bytes, options: WebhookOptions
    ) -> bytes | None:
        """The body itself as the trigger bundle, checked but never decoded, when it is a JSON
        object going to the claim store and the bundle would add nothing to it (no query
        string, headers, method, data structure or capture); None: build the bundle. A decoded
        10 MB body costs ~6x its size at the peak, the check ~1.4x (json_check.py)."""
        if self.claims is None or not self.claims.needed(len(body)):
            return None  # small: decoding is cheap, and the bundle is re-encoded compactly
        if options.json_passthrough or options.pass_headers or options.pass_method:
            return None
        if options.specs or request.url.query or not _JSON_OBJECT.match(body):
            return None
        if not is_json(request.headers.get("content-type", "")):
            return None
        if self.captures is not None and await self.captures.wants(record.id):
            return None
        check_json(body, self.settings.webhook_max_json_depth)
        return body

    def _parse(self, request: Request, body: bytes, options: WebhookOptions) -> Parsed:
        return parse_body(
            body,
            request.headers.get("content-type", ""),
            json_passthrough=options.json_passthrough,
            max_depth=self.settings.webhook_max_json_depth,
        )

    async def _bundle(
        self, request: Request, record: WebhookRecord, parsed: Parsed, options: WebhookOptions
    ) -> bytes:
        content_type = request.headers.get("content-type", "")
        if self.captures is not None:
            # Before validation: redetermining a structure means the old one may not match.
            await self.captures.offer(record.id, content_type, parsed.data)
        specs = options.specs
        if specs:
            errors = validate(specs, parsed.data, parsed.files)
            if errors:
                raise Problem(
                    400,
                    "data-structure-mismatch",
                    "Body does not match the data structure",
                    "; ".join(errors[:5]),
                    errors=errors,
                )
        bundle = build_bundle(
            parsed,
            request.url.query,
            request.headers.items(),
            request.method,
            pass_headers=options.pass_headers,
            pass_method=options.pass_method,
            secret_headers=options.api_key_headers,
        )
        return orjson.dumps(bundle)

    async def _message(
        self, request: Request, record: WebhookRecord, trigger: bytes
    ) -> RunRequested:
        """The RunRequested to queue, with the trigger inline or stored by claim check."""
        key = request.headers.get("webhook-id") or request.headers.get("idempotency-key") or ""
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise Problem(
                400,
                "bad-idempotency-key",
                "Bad request",
                f"idempotency key longer than {MAX_IDEMPOTENCY_KEY} characters",
            )
        run_id, reply_to = new_id(), new_id()
        message = RunRequested(
            run_id=run_id,
            organization_id=str(record.org_id),
            scenario_id=str(record.scenario_id),
            scenario_version=0,
            idempotency_key=key,
            source=TRIGGER_SOURCE_WEBHOOK,
            reply_to=reply_to,
            source_ref=str(record.id),
        )
        message.requested_at.FromNanoseconds(time.time_ns())
        await self._attach_trigger(message, trigger)
        return message

    async def _deliver(self, message: RunRequested) -> Response:
        # Registered before sending, so an answer that comes back very fast is not missed.
        future = self.waiter.register(message.reply_to)
        try:
            await self._send(message)
            return await self._await_reply(future, message.run_id)
        finally:
            self.waiter.discard(message.reply_to)

    async def _attach_trigger(self, message: RunRequested, trigger: bytes) -> None:
        """Inline, or by claim check when the bundle is above the threshold (a Kafka record is
        capped at 1 MiB, and a big record slows every consumer of the topic)."""
        if self.claims is None or not self.claims.needed(len(trigger)):
            message.trigger = trigger.decode("utf-8")
            return
        try:
            check = await self.claims.offload(trigger)
        except (StorageError, OSError) as exc:
            log.warning("storing a large webhook body failed", exc_info=exc)
            raise unavailable("the request could not be stored; retry later") from None
        assert check is not None
        message.trigger_claim_check.CopyFrom(check)

    async def _send(self, message: RunRequested) -> None:
        outgoing = envelope.wrap(
            topics.RUNS_REQUESTED,
            message,
            event_type=envelope.RUN_REQUESTED,
            run_id=message.run_id,
            organization_id=message.organization_id,
            source="trigger",
        )
        try:
            await self.producer.send(outgoing)
        except MessageTooLargeError:
            raise Problem(
                413,
                "body-too-large",
                "Payload too large",
                "the request is too large to be queued",
            ) from None
        except BusError as exc:
            log.warning("queueing a webhook request failed", exc_info=exc)
            raise unavailable("the request could not be queued; retry later") from None

    async def _await_reply(self, future: asyncio.Future[RunEvent], run_id: str) -> Response:
        try:
            event = await asyncio.wait_for(future, self.settings.webhook_response_timeout_seconds)
        except TimeoutError:
            return replies.queued(run_id)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return replies.queued(run_id)  # the waiter stopped (shutdown): the run is queued
        return replies.from_event(event, run_id)
