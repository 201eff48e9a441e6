"""Token checks for services that do not own identity: ask the orchestrator, cache briefly.

In distributed mode the trigger, log and connector-gateway services receive API tokens they
cannot verify themselves (the identity schema is the orchestrator's). They call the
orchestrator's `OrganizationService.GetOrganization` with the caller's token and cache the
answer for a few seconds, so a revoked token stops working within `ttl_seconds`.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

import grpc
from scenarist.identity.v1 import (
    identity_pb2,
    organization_service_pb2,
    organization_service_pb2_grpc,
)
from scenarist_observability.grpc_tracing import client_interceptors
from scenarist_storage.models import Principal, Role
from scenarist_storage.tokens import parse_token_id

_ROLES = {
    identity_pb2.ROLE_VIEWER: Role.VIEWER,
    identity_pb2.ROLE_EDITOR: Role.EDITOR,
    identity_pb2.ROLE_OWNER: Role.OWNER,
}


@dataclass
class _Entry:
    principal: Principal | None
    expires: float


class RemoteAuthenticator:
    def __init__(
        self,
        target: str,
        *,
        ttl_seconds: float = 10.0,
        negative_ttl_seconds: float = 2.0,
        max_entries: int = 10_000,
    ) -> None:
        self._channel = grpc.aio.insecure_channel(target, interceptors=client_interceptors())
        self._stub = organization_service_pb2_grpc.OrganizationServiceStub(self._channel)
        self._ttl = ttl_seconds
        self._negative_ttl = negative_ttl_seconds
        self._max_entries = max_entries
        self._cache: dict[str, _Entry] = {}

    async def authenticate(self, secret: str) -> Principal | None:
        token_id = parse_token_id(secret)
        if token_id is None:
            return None
        key = hashlib.sha256(secret.encode()).hexdigest()
        now = time.monotonic()
        entry = self._cache.get(key)
        if entry is not None and entry.expires > now:
            return entry.principal
        principal = await self._ask(secret, token_id)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        ttl = self._ttl if principal is not None else self._negative_ttl
        self._cache[key] = _Entry(principal, now + ttl)
        return principal

    async def _ask(self, secret: str, token_id: uuid.UUID) -> Principal | None:
        try:
            reply = await self._stub.GetOrganization(
                organization_service_pb2.GetOrganizationRequest(),
                metadata=(("authorization", f"Bearer {secret}"),),
                timeout=5.0,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                return None
            raise
        role = _ROLES.get(reply.role)
        if role is None:
            return None
        return Principal(uuid.UUID(reply.organization.id), role, token_id)

    async def close(self) -> None:
        await self._channel.close(None)
