"""The HTTP client connectors get: SSRF-guarded, bounded, redirect-checked, typed errors.

Redirects are followed here, not by httpx, so each hop is re-checked, credentials are dropped
when the origin changes, and the hop count is bounded. Bodies are streamed into a bounded buffer
(after decompression, so a gzip bomb is bounded too), and one deadline covers the whole call,
redirects and slow drips included.
"""

from __future__ import annotations

import asyncio
import builtins
import http.cookiejar
import json as jsonlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.net import AddressGuard
from scenarist_connector_sdk.transport import GuardedTransport

__all__ = [
    "Authenticator",
    "HttpLimits",
    "HttpResponse",
    "SafeHttpClient",
    "parse_link_header",
    "raise_for_status",
    "retry_after_seconds",
]


class _NoSecretsInHttpxLogs(logging.Filter):
    """httpx logs every request URL at INFO; a query string or userinfo may carry a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _strip(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _strip(url: httpx.URL) -> httpx.URL:
    return url.copy_with(query=None, fragment=None, username=None, password=None)


# Requests are logged on httpx's logger, as httpx itself would: the masks for secrets in URLs
# (this one, and connectors' for credentials in paths) are filters on it, and services show it
# only when debugging.
_httpx_log = logging.getLogger("httpx")
_httpx_log.addFilter(_NoSecretsInHttpxLogs())


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """One client serves every organization's calls: a cookie an API set in one call must not
    ride along on the next (another tenant's, or a redirect hop whose Cookie header was
    stripped). Connectors that need a cookie send it as a header."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
_BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")


class Authenticator(Protocol):
    """Adds a connection's credentials to a request (a new request; the input is not changed)."""

    async def apply(self, request: httpx.Request) -> httpx.Request: ...

    def invalidate(self) -> bool:
        """Forget cached credentials after a 401; True if asking again could succeed."""
        ...


@dataclass(frozen=True)
class HttpLimits:
    """Operator limits; a module may lower ``timeout`` but never raise these."""

    timeout: float = 40.0
    connect_timeout: float = 10.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        charset = httpx.Response(self.status_code, headers=self.headers).charset_encoding
        return self.content.decode(charset or "utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", maxsplit=1)[0].strip().lower()

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.content)
        except ValueError as exc:
            raise errors.InvalidInputError(f"response from {self.url} is not JSON: {exc}") from exc

    @property
    def links(self) -> dict[str, str]:
        return parse_link_header(self.headers.get("link", ""), base=self.url)


def parse_link_header(value: str, *, base: str = "") -> dict[str, str]:
    """RFC 8288 ``Link`` header → ``{rel: absolute url}``."""
    links: dict[str, str] = {}
    for part in value.split(","):
        target, _, params = part.strip().partition(";")
        url = target.strip().strip("<>")
        for param in params.split(";"):
            key, _, rel = param.strip().partition("=")
            if key.strip().lower() == "rel" and url:
                for name in rel.strip().strip('"').split():
                    links[name] = str(httpx.URL(base).join(url)) if base else url
    return links


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class SafeHttpClient:
    """The only HTTP client connector code uses."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        limits: HttpLimits | None = None,
        auth: Authenticator | None = None,
        verify: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        _client: httpx.AsyncClient | None = None,
    ) -> None:
        self.guard = guard
        self.limits = limits or HttpLimits()
        self._auth = auth
        self._transport = transport or GuardedTransport(guard, verify=verify)
        # Only builds requests (default headers, params, bodies, timeouts) and closes the
        # transport: sending goes to the transport directly, see _exchange.
        self._client = _client or httpx.AsyncClient(
            transport=self._transport,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self.limits.timeout, connect=self.limits.connect_timeout),
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
        )

    def with_auth(self, auth: Authenticator | None) -> SafeHttpClient:
        """The same client (and connection pool) authenticating with other credentials."""
        return SafeHttpClient(
            self.guard,
            limits=self.limits,
            auth=auth,
            transport=self._transport,
            _client=self._client,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request("POST", url, **kwargs)

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: list[tuple[str, tuple[str | None, bytes, str | None]]] | None = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
        follow_redirects: bool = True,
    ) -> HttpResponse:
        """Send a request; raises typed :mod:`errors` for refused targets and transport failures.

        Any status code is returned as a response: deciding which are errors is the module's
        job (see :func:`raise_for_status`).
        """
        self.guard.check_url(url)
        deadline = min(timeout or self.limits.timeout, self.limits.timeout)
        try:
            request = self._client.build_request(
                method.upper(),
                url,
                params=params,
                headers=headers,
                json=json,
                data=data,
                files=files,
                content=content,
                timeout=httpx.Timeout(deadline, connect=min(deadline, self.limits.connect_timeout)),
            )
            await request.aread()  # buffered, so redirects and 401 retries can resend it
            async with asyncio.timeout(deadline):
                return await self._follow(request, follow_redirects)
        except (builtins.TimeoutError, httpx.TimeoutException) as exc:
            raise errors.TimeoutError(
                f"{method.upper()} {_safe(url)} timed out after {deadline:g}s"
            ) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise errors.InvalidInputError(f"invalid URL {_safe(url)}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise errors.ConnectionError(f"{method.upper()} {_safe(url)} failed: {exc}") from exc

    async def _follow(self, request: httpx.Request, follow: bool) -> HttpResponse:
        # request() checked the first URL and _redirect checks every next one; the transport
        # checks the address it connects to in any case.
        first = _origin(request.url)
        for _ in range(self.limits.max_redirects + 1):
            same_origin = _origin(request.url) == first
            response = await self._send(request, authenticate=same_origin)
            if not follow or response.status_code not in _REDIRECTS:
                return await self._read(response)
            await response.aclose()
            request = self._redirect(request, response)
        raise errors.InvalidInputError(
            f"more than {self.limits.max_redirects} redirects from {_safe(str(request.url))}"
        )

    async def _send(self, request: httpx.Request, *, authenticate: bool) -> httpx.Response:
        if not authenticate or self._auth is None:
            return await self._exchange(request)
        response = await self._exchange(await self._auth.apply(request))
        if response.status_code == 401 and self._auth.invalidate():
            await response.aclose()
            response = await self._exchange(await self._auth.apply(request))
        return response

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        # The transport directly, not AsyncClient.send: redirects, authentication and the
        # refusal of cookies are ours already, and the client's per-response cookie extraction
        # and request log line were a fifth of the gateway's CPU per call.
        response = await self._transport.handle_async_request(request)
        response.request = request
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%d"', request.method, request.url, response.status_code
            )
        return response

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        location = response.headers.get("location")
        if not location:
            raise errors.InvalidInputError(f"redirect {response.status_code} without a Location")
        url = request.url.join(location)
        self.guard.check_url(str(url))
        method = request.method
        if (response.status_code == 303 and method != "HEAD") or (
            response.status_code in (301, 302) and method == "POST"
        ):
            method = "GET"
        headers = httpx.Headers(request.headers)
        del headers["host"]
        if _origin(url) != _origin(request.url):
            for name in _CREDENTIAL_HEADERS:
                headers.pop(name, None)
        content: bytes | None = request.content
        if method != request.method:
            content = None
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        return self._client.build_request(
            method, url, headers=headers, content=content, extensions=request.extensions
        )

    async def _read(self, response: httpx.Response) -> HttpResponse:
        limit = self.limits.max_response_bytes
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(response, limit)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _too_large(response, limit)
                chunks.append(chunk)
        finally:
            await response.aclose()
        return HttpResponse(
            response.status_code, response.headers, b"".join(chunks), str(response.url)
        )


def _too_large(response: httpx.Response, limit: int) -> errors.ResponseTooLargeError:
    return errors.ResponseTooLargeError(
        f"response from {_safe(str(response.url))} is larger than {limit} bytes"
    )


def _safe(url: str) -> str:
    """The URL without query or credentials: either may carry a secret."""
    try:
        return str(_strip(httpx.URL(url)))
    except (httpx.InvalidURL, TypeError):
        return url.split("?", maxsplit=1)[0].split("#", maxsplit=1)[0]


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; ``None`` when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def raise_for_status(response: HttpResponse) -> None:
    """Map a non-2xx/3xx status onto the typed error the engine's handlers expect."""
    code = response.status_code
    if code < 400:
        return
    where = f"{code} from {_safe(response.url)}"
    if code == 429:
        retry = retry_after_seconds(response.headers.get("retry-after"))
        raise errors.RateLimitError(f"rate limited: {where}", retry_after=retry, status_code=code)
    kind = _STATUS_ERRORS.get(code) or (
        errors.ConnectionError if code >= 500 else errors.InvalidInputError
    )
    raise kind(f"request failed: {where}", status_code=code)


_STATUS_ERRORS: dict[int, type[errors.ConnectorError]] = {
    401: errors.AuthError,
    403: errors.AuthError,
    404: errors.NotFoundError,
    408: errors.TimeoutError,
    410: errors.NotFoundError,
}
