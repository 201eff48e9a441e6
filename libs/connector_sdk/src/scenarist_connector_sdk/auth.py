"""Connections and how they authenticate HTTP requests: API key, basic, bearer, OAuth2.

The gateway decrypts a connection and hands it over as :class:`Connection`; connector code
never sees it directly, only the authenticated ``ctx.http`` and the read-only ``ctx.secrets``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.context import Redactor
from scenarist_connector_sdk.http import Authenticator, SafeHttpClient, raise_for_status
from scenarist_connector_sdk.spec import ConnectionTypeSpec, FieldSpec, FieldType, Option

__all__ = [
    "API_KEY",
    "BASIC",
    "BEARER",
    "OAUTH2",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "Connection",
    "OAuth2ClientCredentials",
    "TokenCache",
    "authenticator_for",
]


@dataclass(frozen=True)
class Connection:
    """A decrypted connection: its type, non-secret parameters and secret fields."""

    type: str = "none"
    parameters: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Connection | None:
        """From ``{"type": ..., "parameters": {...}, "secrets": {...}}``; ``None`` for none."""
        if not data:
            return None
        return cls(
            type=str(data.get("type") or "none").lower(),
            parameters=MappingProxyType(
                {k: str(v) for k, v in (data.get("parameters") or {}).items()}
            ),
            secrets=MappingProxyType({k: str(v) for k, v in (data.get("secrets") or {}).items()}),
        )

    def value(self, name: str, default: str = "") -> str:
        """A field from the secrets or, failing that, the parameters."""
        return self.secrets.get(name) or self.parameters.get(name) or default

    def require(self, name: str) -> str:
        value = self.value(name)
        if not value:
            raise errors.AuthError(f"the {self.type} connection has no {name!r}")
        return value


def _secret(name: str, label: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, FieldType.TEXT, label, required=required, secret=True)


API_KEY = ConnectionTypeSpec(
    "api_key",
    "API key",
    (
        _secret("api_key", "Key"),
        FieldSpec(
            "placement",
            FieldType.SELECT,
            "API key placement",
            options=(Option("header", "In the header"), Option("query", "In the query string")),
            default="header",
        ),
        FieldSpec("name", FieldType.TEXT, "API key parameter name", default="X-API-Key"),
    ),
)
BASIC = ConnectionTypeSpec(
    "basic",
    "Basic auth",
    (
        FieldSpec("username", FieldType.TEXT, "Username", required=True),
        _secret("password", "Password"),
    ),
)
BEARER = ConnectionTypeSpec("bearer", "Bearer token", (_secret("token", "Token"),))
OAUTH2 = ConnectionTypeSpec(
    "oauth2",
    "OAuth 2.0",
    (
        FieldSpec(
            "grant_type",
            FieldType.SELECT,
            "Flow",
            options=(Option("client_credentials"), Option("authorization_code")),
            default="client_credentials",
        ),
        FieldSpec("authorize_url", FieldType.URL, "Authorize URI (authorization code flow)"),
        FieldSpec("token_url", FieldType.URL, "Token URI"),
        FieldSpec("client_id", FieldType.TEXT, "Client ID"),
        _secret("client_secret", "Client secret", required=False),
        FieldSpec("scope", FieldType.TEXT, "Scope"),
        FieldSpec(
            "client_authentication",
            FieldType.SELECT,
            "Client authentication",
            options=(Option("basic", "Send as Basic header"), Option("body", "Send in body")),
            default="basic",
        ),
        _secret("access_token", "Access token (authorization code flow)", required=False),
        _secret("refresh_token", "Refresh token (authorization code flow)", required=False),
    ),
)


def _with_header(request: httpx.Request, name: str, value: str) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    headers[name] = value
    return httpx.Request(
        request.method,
        request.url,
        headers=headers,
        content=request.content,
        extensions=request.extensions,
    )


class ApiKeyAuth:
    """A static key in a header or query parameter chosen by the connection."""

    def __init__(self, key: str, *, name: str = "X-API-Key", placement: str = "header") -> None:
        if placement not in {"header", "query"}:
            raise errors.ConfigurationError(
                f"API key placement must be header or query, not {placement!r}"
            )
        self._key, self._name, self._placement = key, name, placement

    async def apply(self, request: httpx.Request) -> httpx.Request:
        if self._placement == "header":
            return _with_header(request, self._name, self._key)
        url = request.url.copy_add_param(self._name, self._key)
        return httpx.Request(
            request.method,
            url,
            headers=request.headers,
            content=request.content,
            extensions=request.extensions,
        )

    def invalidate(self) -> bool:
        return False


class BasicAuth:
    """HTTP basic authentication."""

    def __init__(self, username: str, password: str) -> None:
        self.token = base64.b64encode(f"{username}:{password}".encode()).decode()

    async def apply(self, request: httpx.Request) -> httpx.Request:
        return _with_header(request, "Authorization", f"Basic {self.token}")

    def invalidate(self) -> bool:
        return False


class BearerAuth:
    """A static bearer token (or an OAuth2 access token the gateway keeps fresh)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def apply(self, request: httpx.Request) -> httpx.Request:
        return _with_header(request, "Authorization", f"Bearer {self._token}")

    def invalidate(self) -> bool:
        return False


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Client-credentials access tokens, shared by every call of the process, per client."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, margin: float = 30.0) -> None:
        self._clock = clock
        self._margin = margin
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, key: str) -> str | None:
        token = self._tokens.get(key)
        if token is None or token.expires_at - self._margin <= self._clock():
            return None
        return token.value

    def put(self, key: str, value: str, expires_in: float) -> None:
        self._tokens[key] = _Token(value, self._clock() + expires_in)

    def drop(self, key: str) -> None:
        self._tokens.pop(key, None)

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


class OAuth2ClientCredentials:
    """Fetches (and caches) an access token with the client-credentials grant (RFC 6749 §4.4)."""

    def __init__(
        self,
        connection: Connection,
        http: SafeHttpClient,
        cache: TokenCache,
        redactor: Redactor,
    ) -> None:
        self._connection = connection
        self._http = http
        self._cache = cache
        self._redactor = redactor
        fingerprint = "|".join(
            connection.value(name) for name in ("token_url", "client_id", "client_secret", "scope")
        )
        self._key = hashlib.sha256(fingerprint.encode()).hexdigest()

    async def apply(self, request: httpx.Request) -> httpx.Request:
        return _with_header(request, "Authorization", f"Bearer {await self._token()}")

    def invalidate(self) -> bool:
        self._cache.drop(self._key)
        return True

    async def _token(self) -> str:
        cached = self._cache.get(self._key)
        if cached is not None:
            return cached
        async with self._cache.lock(self._key):
            cached = self._cache.get(self._key)
            if cached is None:
                cached = await self._fetch()
            return cached

    async def _fetch(self) -> str:
        conn = self._connection
        form = {"grant_type": "client_credentials"}
        if conn.value("scope"):
            form["scope"] = conn.value("scope")
        headers = {"Accept": "application/json"}
        client_id, secret = conn.require("client_id"), conn.value("client_secret")
        if conn.value("client_authentication", "basic") == "body":
            form.update(client_id=client_id, client_secret=secret)
        else:
            basic = BasicAuth(client_id, secret)
            self._redactor.add(basic.token)
            headers["Authorization"] = f"Basic {basic.token}"
        response = await self._http.post(conn.require("token_url"), data=form, headers=headers)
        if response.status_code in (400, 401, 403):
            raise errors.AuthError(
                f"the token endpoint refused the client ({response.status_code})"
            )
        raise_for_status(response)
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise errors.AuthError("the token endpoint returned no access_token")
        self._redactor.add(token)
        self._cache.put(self._key, token, float(body.get("expires_in") or 3600))
        return token


def authenticator_for(
    connection: Connection | None,
    http: SafeHttpClient,
    cache: TokenCache,
    redactor: Redactor,
) -> Authenticator | None:
    """The authenticator a connection calls for; ``None`` for no connection."""
    if connection is None or connection.type == "none":
        return None
    kind = connection.type
    if kind == "api_key":
        return ApiKeyAuth(
            connection.require("api_key"),
            name=connection.value("name", "X-API-Key"),
            placement=connection.value("placement", "header"),
        )
    if kind == "basic":
        auth = BasicAuth(connection.require("username"), connection.value("password"))
        redactor.add(auth.token)
        return auth
    if kind == "bearer":
        return BearerAuth(connection.require("token"))
    if kind == "oauth2":
        if connection.value("grant_type", "client_credentials") == "client_credentials":
            return OAuth2ClientCredentials(connection, http, cache, redactor)
        return BearerAuth(connection.require("access_token"))
    raise errors.ConfigurationError(f"unknown connection type {kind!r}")
