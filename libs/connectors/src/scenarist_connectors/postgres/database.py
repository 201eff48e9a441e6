"""Connecting to the user's PostgreSQL through the SSRF guard, and its errors as typed errors."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from scenarist_connector_sdk import ActionContext, errors

from scenarist_connectors.postgres.values import to_bundle_value

__all__ = ["connect", "failures", "row_bundle"]

CONNECT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0


def _tls(mode: str) -> ssl.SSLContext | bool:
    if mode == "disable":
        return False
    context = ssl.create_default_context()
    context.check_hostname = False  # we connect to the pinned IP; see the package docstring
    context.verify_mode = ssl.CERT_NONE
    return context


@asynccontextmanager
async def connect(ctx: ActionContext) -> AsyncIterator[Any]:
    """A connection to the first checked address of the connection's host."""
    params = ctx.parameters
    host = params.get("host", "")
    if not host:
        raise errors.ConfigurationError("PostgreSQL: the connection has no host")
    port = int(params.get("port") or 5432)
    addresses = await ctx.http.guard.resolve(host, port)
    try:
        conn = await asyncpg.connect(
            host=addresses[0],
            port=port,
            user=params.get("username") or None,
            password=ctx.secrets.get("password") or None,
            database=params.get("database") or None,
            ssl=_tls(params.get("ssl") or "require"),
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
        )
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise errors.AuthError(f"PostgreSQL refused the login: {exc}") from exc
    except asyncpg.InvalidCatalogNameError as exc:
        raise errors.NotFoundError(f"PostgreSQL: {exc}") from exc
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise errors.ConnectionError(f"PostgreSQL: cannot connect to {host}:{port}: {exc}") from exc
    try:
        yield conn
    finally:
        await conn.close(timeout=5)


@asynccontextmanager
async def failures() -> AsyncIterator[None]:
    """Statement errors by SQLSTATE class: the engine retries only what may succeed later."""
    try:
        yield
    except asyncpg.InsufficientPrivilegeError as exc:
        raise errors.AuthError(f"PostgreSQL: {exc}") from exc
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
        raise errors.NotFoundError(f"PostgreSQL: {exc}") from exc
    except (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError) as exc:
        raise errors.ConnectionError(f"PostgreSQL: {exc}") from exc
    except asyncpg.QueryCanceledError as exc:
        raise errors.TimeoutError(f"PostgreSQL: {exc}") from exc
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError, TypeError) as exc:
        # Syntax, constraint and data errors: the inputs must change, a retry cannot help.
        raise errors.InvalidInputError(f"PostgreSQL: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise errors.ConnectionError(f"PostgreSQL: {exc}") from exc


def row_bundle(row: Any) -> dict[str, Any]:
    return {str(key): to_bundle_value(value) for key, value in row.items()}
