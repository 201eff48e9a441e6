"""The REST route table: every endpoint declares its method, path, role and body model once;
Starlette routes and the OpenAPI document are both generated from it, so they cannot disagree.

The wrapper around each handler authenticates (session cookie or script token), checks the role
and, for a session on an unsafe method, the CSRF token; it parses a JSON body into the declared
pydantic model, and turns ApiError into problem+json.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from scenarist_storage.models import Role
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scenarist_studio.accounts import Accounts, Caller, role_allows
from scenarist_studio.context import Ctx, Studio
from scenarist_studio.problems import ApiError, problem_response

__all__ = ["CSRF_COOKIE", "CSRF_HEADER", "SESSION_COOKIE", "Endpoint", "Query", "routes_for"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "scenarist_session"
CSRF_COOKIE = "scenarist_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY_BYTES = 2 * 1024 * 1024

Handler = Callable[[Ctx], Awaitable[Any]]


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    type: str = "string"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /api, Starlette syntax: /scenarios/{scenario_id}
    handler: Handler
    summary: str
    tag: str
    role: Role | None = Role.VIEWER  # None: no sign-in needed
    body: type[BaseModel] | None = None
    query: Sequence[Query] = field(default_factory=tuple)
    status: int = 200


def json_response(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


async def _caller(request: Request, studio: Studio) -> Caller | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        found = await studio.accounts.from_token(secret.strip())
        if found is None:
            raise ApiError(401, "Unauthorized", "unknown or revoked API token")
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    return await studio.accounts.from_session(cookie) if cookie else None


def _authorize(endpoint: Endpoint, request: Request, caller: Caller | None) -> None:
    if endpoint.role is None:
        return
    if caller is None:
        raise ApiError(401, "Unauthorized", "sign in first", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS:
        header = request.headers.get(CSRF_HEADER)
        if not Accounts.csrf_ok(caller, header, request.cookies.get(CSRF_COOKIE)):
            raise ApiError(403, "Forbidden", "missing or wrong CSRF token")
    if not role_allows(caller.role, endpoint.role):
        raise ApiError(403, "Forbidden", f"this needs the {endpoint.role.value} role")


async def _body(endpoint: Endpoint, request: Request) -> BaseModel | None:
    if endpoint.body is None:
        return None
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        # Also what keeps cross-site forms out: they cannot send application/json.
        raise ApiError(415, "Unsupported media type", "send application/json")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "Request too large")
    try:
        return endpoint.body.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        violations = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise ApiError(400, "Invalid request", "the body does not match", violations) from None


def _wrap(endpoint: Endpoint, studio: Studio) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            caller = await _caller(request, studio)
            _authorize(endpoint, request, caller)
            body = await _body(endpoint, request)
            result = await endpoint.handler(Ctx(request, studio, caller, body))
        except ApiError as error:
            return problem_response(error)
        except Exception:
            log.exception("studio endpoint failed", extra={"path": endpoint.path})
            return problem_response(ApiError(500, "Internal error"))
        if isinstance(result, Response):
            return result
        return json_response(result, endpoint.status)

    return handle


def routes_for(endpoints: Sequence[Endpoint], studio: Studio) -> list[Route]:
    """One Starlette route per path, dispatching on the method."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
    routes = []
    for path, methods in by_path.items():
        handlers = {method: _wrap(ep, studio) for method, ep in methods.items()}
        routes.append(Route(path, _dispatch(handlers), methods=sorted(handlers)))
    return routes


def _dispatch(
    handlers: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def dispatch(request: Request) -> Response:
        handler = handlers.get(request.method)
        if handler is None:
            return problem_response(ApiError(405, "Method not allowed"))
        return await handler(request)

    return dispatch
