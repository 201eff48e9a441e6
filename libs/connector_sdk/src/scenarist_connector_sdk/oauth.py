"""OAuth2 authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636) and refresh (§6).

Pure helpers for the gateway, which owns the state and the stored tokens: build the
authorization URL, exchange a code, refresh. Token endpoints are called only through the
SSRF-guarded :class:`SafeHttpClient`, so an operator's allow list governs them like any module.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from scenarist_connector_sdk import errors
from scenarist_connector_sdk.auth import BasicAuth, Connection
from scenarist_connector_sdk.http import SafeHttpClient, raise_for_status

__all__ = [
    "TokenSet",
    "authorization_url",
    "code_challenge",
    "exchange_code",
    "new_code_verifier",
    "new_state",
    "refresh_tokens",
]

# 1 hour when the token endpoint does not say (RFC 6749 §5.1 makes expires_in optional).
DEFAULT_EXPIRES_IN = 3600.0


def new_state() -> str:
    """256 random bits: unguessable, so a forged callback cannot name someone's flow."""
    return secrets.token_urlsafe(32)


def new_code_verifier() -> str:
    """43 characters of the unreserved alphabet (RFC 7636 §4.1 minimum, 256 bits)."""
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """The S256 challenge: base64url(sha256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_url(url: str, name: str) -> str:
    """An absolute http(s) URL without credentials or fragment, else ConfigurationError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ConfigurationError(f"{name} must be an absolute http(s) URL")
    if parts.username or parts.password or parts.fragment:
        raise errors.ConfigurationError(f"{name} must not carry credentials or a fragment")
    return url


def authorization_url(
    authorize_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    challenge: str,
    scope: str = "",
) -> str:
    """Where the user's browser goes to grant access (existing query parameters are kept)."""
    check_url(authorize_url, "authorize_url")
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if scope:
        query["scope"] = scope
    joiner = "&" if urlsplit(authorize_url).query else "?"
    return f"{authorize_url}{joiner}{urlencode(query)}"


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint granted; ``refresh_token`` is empty when it did not rotate it."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_in: float = DEFAULT_EXPIRES_IN


async def _call_token_endpoint(
    http: SafeHttpClient, connection: Connection, form: dict[str, str]
) -> TokenSet:
    headers = {"Accept": "application/json"}
    client_id, secret = connection.require("client_id"), connection.value("client_secret")
    if connection.value("client_authentication", "basic") == "body":
        form.update(client_id=client_id, client_secret=secret)
    else:
        headers["Authorization"] = f"Basic {BasicAuth(client_id, secret).token}"
    url = check_url(connection.require("token_url"), "token_url")
    response = await http.post(url, data=form, headers=headers)
    if response.status_code in (400, 401, 403):
        # invalid_grant etc.: the body may echo the code, so only the status is reported.
        raise errors.AuthError(
            f"the token endpoint refused the grant ({response.status_code})",
            status_code=response.status_code,
        )
    raise_for_status(response)
    return _token_set(response.json())


def _token_set(body: object) -> TokenSet:
    if not isinstance(body, Mapping):
        raise errors.AuthError("the token endpoint answered no JSON object")
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise errors.AuthError("the token endpoint returned no access_token")
    refresh = body.get("refresh_token")
    expires = body.get("expires_in")
    seconds = (
        float(expires)
        if isinstance(expires, int | float) and not isinstance(expires, bool) and expires > 0
        else DEFAULT_EXPIRES_IN
    )
    return TokenSet(access, refresh if isinstance(refresh, str) else "", seconds)


async def exchange_code(
    http: SafeHttpClient,
    connection: Connection,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenSet:
    """Trade an authorization code (once) for tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    return await _call_token_endpoint(http, connection, form)


async def refresh_tokens(http: SafeHttpClient, connection: Connection) -> TokenSet:
    """New tokens with the refresh_token grant; keeps the old refresh token if none rotated."""
    refresh = connection.require("refresh_token")
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    if connection.value("scope"):
        form["scope"] = connection.value("scope")
    granted = await _call_token_endpoint(http, connection, form)
    if granted.refresh_token:
        return granted
    return TokenSet(granted.access_token, refresh, granted.expires_in)
