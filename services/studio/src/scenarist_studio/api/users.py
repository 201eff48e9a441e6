"""Users of the caller's organization (owners manage them) and the caller's own script tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from scenarist_storage.models import Role

from scenarist_studio.api.session import user_view
from scenarist_studio.context import Ctx
from scenarist_studio.passwords import Passwords, generate_password
from scenarist_studio.problems import ApiError
from scenarist_studio.routing import Endpoint
from scenarist_studio.users import ApiTokenRecord, EmailTakenError

RoleName = Literal["owner", "editor", "viewer"]


class NewUser(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: RoleName
    password: str | None = Field(default=None, max_length=256)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: RoleName = "viewer"


async def list_users(ctx: Ctx) -> dict[str, Any]:
    users = await ctx.studio.accounts.store.users(ctx.user.user.org_id)
    return {"users": [user_view(u) for u in users]}


async def create_user(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(NewUser)
    password = body.password or generate_password()
    if problem := Passwords.problem(password):
        raise ApiError(400, "Invalid request", problem, [{"field": "password", "message": problem}])
    accounts = ctx.studio.accounts
    if await accounts.store.user_by_email(body.email) is not None:
        raise ApiError(409, "Already exists", "a user with this email exists")
    role = Role(body.role)
    token = await accounts.mint_service_token(ctx.user.grpc_token, role, body.email)
    try:
        user = await accounts.create_user(body.email, password, role, ctx.user.user.org_id, token)
    except EmailTakenError:
        raise ApiError(409, "Already exists", "a user with this email exists") from None
    shown = None if body.password else password
    return {"user": user_view(user), "password": shown}


def _token_view(t: ApiTokenRecord) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "name": t.name,
        "prefix": t.prefix,
        "role": t.role.value,
        "created_at": t.created_at.isoformat(),
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
    }


async def list_tokens(ctx: Ctx) -> dict[str, Any]:
    tokens = await ctx.studio.accounts.store.tokens(ctx.user.user.id)
    return {"tokens": [_token_view(t) for t in tokens]}


async def create_token(ctx: Ctx) -> dict[str, Any]:
    body = ctx.payload(NewToken)
    record, secret = await ctx.studio.accounts.create_token(
        ctx.user.user, body.name, Role(body.role)
    )
    return {"token": _token_view(record), "secret": secret}


async def revoke_token(ctx: Ctx) -> dict[str, Any]:
    try:
        token_id = uuid.UUID(ctx.param("token_id"))
    except ValueError:
        raise ApiError(404, "Not found") from None
    store = ctx.studio.accounts.store
    if not await store.revoke_token(ctx.user.user.id, token_id, datetime.now(UTC)):
        raise ApiError(404, "Not found")
    return {"revoked": str(token_id)}


ENDPOINTS = (
    Endpoint("GET", "/users", list_users, "Users of the organization", "users", role=Role.OWNER),
    Endpoint(
        "POST",
        "/users",
        create_user,
        "Add a user (a password is generated if none)",
        "users",
        role=Role.OWNER,
        body=NewUser,
        status=201,
    ),
    Endpoint("GET", "/tokens", list_tokens, "The caller's API tokens for scripts", "tokens"),
    Endpoint(
        "POST",
        "/tokens",
        create_token,
        "Create an API token (shown once)",
        "tokens",
        body=NewToken,
        status=201,
    ),
    Endpoint("DELETE", "/tokens/{token_id}", revoke_token, "Revoke an API token", "tokens"),
)
