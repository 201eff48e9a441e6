"""WebhookService: create, read, rotate, attach and delete webhooks of the caller's org."""

# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import grpc
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist.trigger.v1 import webhook_service_pb2_grpc as pb_grpc
from scenarist_runtime.auth import current_principal, require_role
from scenarist_runtime.rpc import Context, abort_invalid, found, not_found, store_errors
from scenarist_storage.errors import ConflictError, InvalidPageTokenError, NotFoundError
from scenarist_storage.models import Role
from scenarist_storage.ports import WebhookStore
from scenarist_storage.webhook_models import NewWebhook, WebhookAuthType, WebhookRecord

from scenarist_trigger.capture import CaptureGate, capture_message
from scenarist_trigger.crypto import SecretBox
from scenarist_trigger.options import OptionsError, from_json, from_proto
from scenarist_trigger.scenario_check import ScenarioCheck
from scenarist_trigger.secrets_issue import issue_auth, issue_token, open_token

MAX_NAME = 200
MAX_PREVIOUS_TTL = timedelta(hours=24)
_AUTH_TO_STORE = {
    webhook_pb2.WEBHOOK_AUTH_UNSPECIFIED: WebhookAuthType.NONE,
    webhook_pb2.WEBHOOK_AUTH_NONE: WebhookAuthType.NONE,
    webhook_pb2.WEBHOOK_AUTH_API_KEY: WebhookAuthType.API_KEY,
    webhook_pb2.WEBHOOK_AUTH_BASIC: WebhookAuthType.BASIC,
    webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS: WebhookAuthType.STANDARD_WEBHOOKS,
}
_AUTH_TO_PROTO = {
    WebhookAuthType.NONE: webhook_pb2.WEBHOOK_AUTH_NONE,
    WebhookAuthType.API_KEY: webhook_pb2.WEBHOOK_AUTH_API_KEY,
    WebhookAuthType.BASIC: webhook_pb2.WEBHOOK_AUTH_BASIC,
    WebhookAuthType.STANDARD_WEBHOOKS: webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS,
}


async def invalid(context: Context, violations: list[tuple[str, str]]) -> NoReturn:
    await abort_invalid(context, "invalid request", violations)


async def parse_id(context: Context, text: str, field: str, *, optional: bool = False) -> Any:
    if optional and not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        await invalid(context, [(field, "must be a UUID")])


class WebhookServicer(pb_grpc.WebhookServiceServicer):
    def __init__(
        self,
        store: WebhookStore,
        box: SecretBox,
        public_url: str,
        *,
        scenarios: ScenarioCheck,
        captures: CaptureGate | None = None,
    ) -> None:
        self._store = store
        self._captures = captures
        self._scenarios = scenarios
        self._box = box
        self._public_url = public_url.rstrip("/")

    def _message(self, record: WebhookRecord) -> webhook_pb2.Webhook:
        token = open_token(self._box, record)
        path = f"/hooks/{token}" if token else ""
        message = webhook_pb2.Webhook(
            id=str(record.id),
            organization_id=str(record.org_id),
            scenario_id=str(record.scenario_id) if record.scenario_id else "",
            name=record.name,
            url_path=path,
            url=self._public_url + path if path else "",
            auth=_AUTH_TO_PROTO[record.auth.type],
            options=from_json(record.options).to_proto(),
        )
        message.created_at.FromDatetime(record.created_at)
        if record.rotated_at is not None:
            message.rotated_at.FromDatetime(record.rotated_at)
        return message

    async def _get(self, context: Context, raw_id: str) -> WebhookRecord:
        webhook_id = await parse_id(context, raw_id, "webhook_id")
        return await found(
            context, await self._store.get(current_principal().org_id, webhook_id), "webhook"
        )

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: Context
    ) -> pb.CreateWebhookResponse:
        principal = await require_role(context, Role.EDITOR)
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id", optional=True)
        violations: list[tuple[str, str]] = []
        if len(request.name) > MAX_NAME:
            violations.append(("name", f"at most {MAX_NAME} characters"))
        if request.auth not in _AUTH_TO_STORE:
            violations.append(("auth", "unknown authentication kind"))
        try:
            options = from_proto(request.options)
        except OptionsError as exc:
            violations.extend(exc.problems)
        if violations:
            await invalid(context, violations)
        if scenario_id is not None:
            await self._scenarios.require(context, scenario_id)
        webhook_id = uuid.uuid4()
        token = issue_token(self._box, webhook_id)
        kind = _AUTH_TO_STORE[request.auth]
        issued = issue_auth(self._box, webhook_id, kind, request.basic_username)
        record = await self._store.create(
            NewWebhook(
                id=webhook_id,
                org_id=principal.org_id,
                scenario_id=scenario_id,
                name=request.name or "Webhook",
                token_hash=token.token_hash,
                sealed_token=token.sealed,
                auth=issued.data,
                options=options.to_json(),
            )
        )
        response = pb.CreateWebhookResponse(webhook=self._message(record))
        if issued.secret is not None:
            response.secret.CopyFrom(issued.secret)
        return response

    async def GetWebhook(
        self, request: pb.GetWebhookRequest, context: Context
    ) -> pb.GetWebhookResponse:
        return pb.GetWebhookResponse(
            webhook=self._message(await self._get(context, request.webhook_id))
        )

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id", optional=True)
        size = 50 if request.page_size <= 0 else min(request.page_size, 500)
        try:
            page = await self._store.list(
                current_principal().org_id,
                scenario_id=scenario_id,
                page_size=size,
                page_token=request.page_token or None,
            )
        except InvalidPageTokenError:
            await invalid(context, [("page_token", "invalid page token")])
        return pb.ListWebhooksResponse(
            webhooks=[self._message(r) for r in page.items],
            next_page_token=page.next_page_token or "",
        )

    async def RotateWebhook(
        self, request: pb.RotateWebhookRequest, context: Context
    ) -> pb.RotateWebhookResponse:
        principal = await require_role(context, Role.EDITOR)
        record = await self._get(context, request.webhook_id)
        ttl = request.previous_secret_ttl.ToTimedelta()
        if not (request.rotate_url or request.rotate_secret):
            await invalid(context, [("rotate_url", "set rotate_url and/or rotate_secret")])
        if ttl < timedelta(0) or ttl > MAX_PREVIOUS_TTL:
            await invalid(context, [("previous_secret_ttl", "must be within 0..24 hours")])
        if request.rotate_secret and record.auth.type is WebhookAuthType.NONE:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "this webhook has no secret to rotate"
            )
        token = issue_token(self._box, record.id) if request.rotate_url else None
        issued = None
        if request.rotate_secret:
            expires = datetime.now(UTC) + ttl if ttl > timedelta(0) else None
            issued = issue_auth(
                self._box,
                record.id,
                record.auth.type,
                record.auth.username,
                previous=record.auth,
                previous_expires_at=expires,
            )
        try:
            updated = await self._store.rotate(
                principal.org_id,
                record.id,
                token=(token.token_hash, token.sealed) if token else None,
                auth=issued.data if issued else None,
            )
        except (NotFoundError, ConflictError):
            await not_found(context, "webhook")
        response = pb.RotateWebhookResponse(webhook=self._message(updated))
        if issued is not None and issued.secret is not None:
            response.secret.CopyFrom(issued.secret)
        return response

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> pb.DeleteWebhookResponse:
        principal = await require_role(context, Role.EDITOR)
        webhook_id = await parse_id(context, request.webhook_id, "webhook_id")
        async with store_errors(context, "webhook"):
            await self._store.delete(principal.org_id, webhook_id)
        return pb.DeleteWebhookResponse()

    async def AttachWebhook(
        self, request: pb.AttachWebhookRequest, context: Context
    ) -> pb.AttachWebhookResponse:
        principal = await require_role(context, Role.EDITOR)
        webhook_id = await parse_id(context, request.webhook_id, "webhook_id")
        scenario_id = await parse_id(context, request.scenario_id, "scenario_id", optional=True)
        if scenario_id is not None:
            await self._scenarios.require(context, scenario_id)
        async with store_errors(context, "webhook"):
            record = await self._store.attach(principal.org_id, webhook_id, scenario_id)
        return pb.AttachWebhookResponse(webhook=self._message(record))

    async def UpdateWebhook(
        self, request: pb.UpdateWebhookRequest, context: Context
    ) -> pb.UpdateWebhookResponse:
        principal = await require_role(context, Role.EDITOR)
        webhook_id = await parse_id(context, request.webhook_id, "webhook_id")
        violations: list[tuple[str, str]] = []
        if len(request.name) > MAX_NAME:
            violations.append(("name", f"at most {MAX_NAME} characters"))
        options = None
        if request.HasField("options"):
            try:
                options = from_proto(request.options).to_json()
            except OptionsError as exc:
                violations.extend(exc.problems)
        if violations:
            await invalid(context, violations)
        async with store_errors(context, "webhook"):
            record = await self._store.update(
                principal.org_id, webhook_id, name=request.name or None, options=options
            )
        return pb.UpdateWebhookResponse(webhook=self._message(record))

    async def _gate(self, context: Context) -> CaptureGate:
        if self._captures is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "captures are not enabled")
        assert self._captures is not None
        return self._captures

    async def StartDataStructureCapture(
        self, request: pb.StartDataStructureCaptureRequest, context: Context
    ) -> pb.StartDataStructureCaptureResponse:
        principal = await require_role(context, Role.EDITOR)
        gate = await self._gate(context)
        webhook_id = await parse_id(context, request.webhook_id, "webhook_id")
        async with store_errors(context, "webhook"):
            record = await gate.arm(principal.org_id, webhook_id)
        return pb.StartDataStructureCaptureResponse(
            capture=capture_message(request.webhook_id, record)
        )

    async def GetCapturedRequest(
        self, request: pb.GetCapturedRequestRequest, context: Context
    ) -> pb.GetCapturedRequestResponse:
        gate = await self._gate(context)
        record = await self._get(context, request.webhook_id)  # NOT_FOUND for other orgs
        found = await gate.store.get(record.org_id, record.id)
        return pb.GetCapturedRequestResponse(capture=capture_message(request.webhook_id, found))
