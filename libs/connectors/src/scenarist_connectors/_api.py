"""What the vendor apps share: base URLs from the connection, typed errors from vendor bodies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, NoReturn

from scenarist_connector_sdk import ActionContext, FieldSpec, FieldType, HttpResponse, errors
from scenarist_connector_sdk.http import retry_after_seconds

__all__ = ["base_url", "base_url_field", "check", "fail", "json_body", "mask_url_path"]

# Some APIs carry the credential in the URL path (Telegram's /bot<token>/, Slack's incoming
# webhook /services/T/B/secret); httpx logs request URLs at INFO, so mask those paths there.
_SECRET_PATHS = (re.compile(r"(/bot)[^/?#]+"), re.compile(r"(/services/)[^?#]+"))


def mask_url_path(url: str) -> str:
    for pattern in _SECRET_PATHS:
        url = pattern.sub(r"\1***", url)
    return url


class _SecretPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_url_path(str(arg)) if "URL" in type(arg).__name__ else arg
                for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_SecretPathFilter())

_BY_STATUS: dict[int, type[errors.ConnectorError]] = {
    401: errors.AuthError,
    403: errors.AuthError,
    404: errors.NotFoundError,
    408: errors.TimeoutError,
    410: errors.NotFoundError,
}


def base_url_field(default: str) -> FieldSpec:
    """The connection parameter that lets a self-hosted instance (or a test fake) stand in."""
    return FieldSpec("base_url", FieldType.URL, "API base URL", default=default)


def base_url(ctx: ActionContext, default: str) -> str:
    return (ctx.parameters.get("base_url") or default).rstrip("/")


def fail(
    response: HttpResponse,
    app: str,
    detail: str = "",
    *,
    status: int | None = None,
    retry_after: float | None = None,
) -> NoReturn:
    """Raise the typed error for a failed call; ``status`` overrides for 200-with-error APIs."""
    code = status or response.status_code
    message = f"{app}: {detail or 'request failed'} (HTTP {response.status_code})"
    if code == 429:
        header = retry_after_seconds(response.headers.get("retry-after"))
        raise errors.RateLimitError(
            message, retry_after=header if header is not None else retry_after, status_code=code
        )
    kind = _BY_STATUS.get(code) or (
        errors.ConnectionError if code >= 500 else errors.InvalidInputError
    )
    raise kind(message, status_code=code)


def json_body(response: HttpResponse) -> Any:
    """The JSON body, or ``None`` when there is none or it is not JSON (an error page)."""
    try:
        return response.json() if response.content else None
    except errors.InvalidInputError:
        return None


def check(
    response: HttpResponse,
    app: str,
    detail: Callable[[Any], str],
    *,
    retry_after: float | None = None,
) -> Any:
    """The parsed body of a 2xx response; otherwise the typed error with the vendor's message."""
    body = json_body(response)
    if response.ok:
        if body is None and response.content:
            raise errors.InvalidInputError(f"{app}: the response is not JSON")
        return body
    try:
        text = detail(body) if body is not None else ""
    except (KeyError, TypeError, AttributeError):
        text = ""
    fail(response, app, text, retry_after=retry_after)
