"""Signing in and out, and "who am I"."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

from scenarist_studio.accounts import Caller
from scenarist_studio.context import Ctx
from scenarist_studio.problems import ApiError
from scenarist_studio.routing import CSRF_COOKIE, SESSION_COOKIE, Endpoint, json_response
from scenarist_studio.users import User


class SignIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role.value,
        "organization_id": str(user.org_id),
        "created_at": user.created_at.isoformat(),
    }


def _me(caller: Caller) -> dict[str, Any]:
    csrf = caller.session.csrf if caller.session is not None else None
    return {"user": user_view(caller.user), "role": caller.role.value, "csrf": csrf}


async def sign_in(ctx: Ctx) -> Response:
    body = ctx.payload(SignIn)
    session = await ctx.studio.accounts.sign_in(body.email, body.password)
    if session is None:
        raise ApiError(401, "Unauthorized", "wrong email or password")
    options = ctx.studio.options
    max_age = int(options.session_hours * 3600)
    response = json_response(
        {"user": user_view(session.user), "role": session.user.role.value, "csrf": session.csrf}
    )
    response.set_cookie(
        SESSION_COOKIE,
        session.secret,
        max_age=max_age,
        path="/",
        secure=options.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    # Readable by the page's script on purpose: it sends it back in the X-CSRF-Token header.
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf,
        max_age=max_age,
        path="/",
        secure=options.cookie_secure,
        httponly=False,
        samesite="strict",
    )
    return response


async def sign_out(ctx: Ctx) -> Response:
    secret = ctx.request.cookies.get(SESSION_COOKIE)
    if secret:
        await ctx.studio.accounts.sign_out(secret)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


async def me(ctx: Ctx) -> dict[str, Any]:
    return _me(ctx.user)


ENDPOINTS = (
    Endpoint(
        "POST",
        "/session",
        sign_in,
        "Sign in with email and password",
        "session",
        role=None,
        body=SignIn,
    ),
    Endpoint("DELETE", "/session", sign_out, "Sign out", "session"),
    Endpoint("GET", "/session", me, "The signed-in user, role and CSRF token", "session"),
)
