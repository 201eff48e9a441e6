"""TokenService: API tokens of the caller's organization; every call needs the owner role."""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class
from __future__ import annotations

import base64
import binascii
import uuid

import grpc
from scenarist.identity.v1 import token_service_pb2, token_service_pb2_grpc
from scenarist_runtime.auth import require_role
from scenarist_runtime.rpc import Context, abort, abort_invalid, page_size, parse_id
from scenarist_storage.models import Role, TokenInfo
from scenarist_storage.ports import IdentityStore

from scenarist_orchestrator.api.common import store_errors
from scenarist_orchestrator.api.identity_view import STORE_ROLES, token_message
from scenarist_orchestrator.authenticator import CachingAuthenticator

pb = token_service_pb2


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"tokens:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int | None:
    """The offset a page token stands for; None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, number = text.partition(":")
        return int(number) if kind == "tokens" and int(number) >= 0 else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


class TokenServicer(token_service_pb2_grpc.TokenServiceServicer):
    def __init__(
        self, identity: IdentityStore, authenticator: CachingAuthenticator | None = None
    ) -> None:
        self._identity = identity
        self._authenticator = authenticator

    async def CreateApiToken(
        self, request: pb.CreateApiTokenRequest, context: Context
    ) -> pb.CreateApiTokenResponse:
        principal = await require_role(context, Role.OWNER)
        if request.organization_id and request.organization_id != str(principal.org_id):
            await abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                "tokens can only be created in the caller's organization",
            )
        role = STORE_ROLES.get(request.role)
        problems = []
        if role is None:
            problems.append(("role", "must be ROLE_VIEWER, ROLE_EDITOR or ROLE_OWNER"))
        if not request.name.strip():
            problems.append(("name", "must not be empty"))
        if request.HasField("expires_at"):
            problems.append(("expires_at", "expiring tokens are not supported yet"))
        if problems or role is None:
            await abort_invalid(context, "invalid token request", problems)
        token_id, secret = await self._identity.create_token(principal.org_id, role, request.name)
        info = await self._find(principal.org_id, token_id)
        return pb.CreateApiTokenResponse(token=token_message(info), secret=secret)

    async def ListApiTokens(
        self, request: pb.ListApiTokensRequest, context: Context
    ) -> pb.ListApiTokensResponse:
        principal = await require_role(context, Role.OWNER)
        size = await page_size(context, request.page_size)
        offset = _offset(request.page_token) if request.page_token else 0
        if offset is None:
            await abort_invalid(context, "invalid page_token", [("page_token", "malformed")])
        tokens = await self._identity.list_tokens(principal.org_id)
        if not request.include_revoked:
            tokens = [t for t in tokens if t.revoked_at is None]
        tokens.reverse()  # the store lists oldest first; the API newest first
        page = tokens[offset : offset + size]
        more = offset + size < len(tokens)
        return pb.ListApiTokensResponse(
            tokens=[token_message(t) for t in page],
            next_page_token=_page_token(offset + size) if more else "",
        )

    async def RevokeApiToken(
        self, request: pb.RevokeApiTokenRequest, context: Context
    ) -> pb.RevokeApiTokenResponse:
        principal = await require_role(context, Role.OWNER)
        token_id = await parse_id(context, request.token_id, "token_id")
        async with store_errors(context, "token"):
            await self._identity.revoke_token(principal.org_id, token_id)
        if self._authenticator is not None:
            self._authenticator.forget(token_id)
        return pb.RevokeApiTokenResponse(
            token=token_message(await self._find(principal.org_id, token_id))
        )

    async def _find(self, org_id: uuid.UUID, token_id: uuid.UUID) -> TokenInfo:
        for info in await self._identity.list_tokens(org_id):
            if info.id == token_id:
                return info
        raise LookupError(f"token {token_id} vanished")  # only if deleted concurrently
