"""Connecting to the user's MySQL or MariaDB through the SSRF guard; its errors, typed."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiomysql  # type: ignore[import-untyped]
import pymysql  # type: ignore[import-untyped]
from scenarist_connector_sdk import ActionContext, errors

from scenarist_connectors.postgres.values import to_bundle_value

__all__ = ["connect", "cursor_text", "failures", "quote_ident", "quote_table", "row_bundle"]

CONNECT_TIMEOUT = 10
# Server error numbers (https://mariadb.com/kb/en/mariadb-error-codes/) by what a retry can do.
_AUTH = {1044, 1045, 1142, 1143, 1227, 1698}
_NOT_FOUND = {1049, 1051, 1054, 1146}
_TRANSIENT = {1040, 1205, 1213, 2002, 2003, 2006, 2013}
_TIMEOUT = {1969, 3024}  # statement time limit (MariaDB, MySQL)


def _tls(mode: str) -> ssl.SSLContext | None:
    if mode == "disable":
        return None
    context = ssl.create_default_context()
    context.check_hostname = False  # we connect to the pinned IP, as the postgres app does
    context.verify_mode = ssl.CERT_NONE
    return context


@asynccontextmanager
async def connect(ctx: ActionContext) -> AsyncIterator[Any]:
    """An autocommit connection to the first checked address of the connection's host."""
    params = ctx.parameters
    host = params.get("host", "")
    if not host:
        raise errors.ConfigurationError("MySQL: the connection has no host")
    port = int(params.get("port") or 3306)
    addresses = await ctx.http.guard.resolve(host, port)
    try:
        conn = await aiomysql.connect(
            host=addresses[0],
            port=port,
            user=params.get("username") or None,
            password=ctx.secrets.get("password") or "",
            db=params.get("database") or None,
            ssl=_tls(params.get("ssl") or "require"),
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
            charset="utf8mb4",
        )
    except pymysql.err.MySQLError as exc:
        raise _typed(exc, f"cannot connect to {host}:{port}") from None
    except (OSError, TimeoutError) as exc:
        raise errors.ConnectionError(f"MySQL: cannot connect to {host}:{port}: {exc}") from None
    try:
        yield conn
    finally:
        # close(), not ensure_closed(): an unread streamed result must not be drained first.
        conn.close()


def _typed(exc: Exception, doing: str = "") -> errors.ConnectorError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    detail = exc.args[1] if len(exc.args) > 1 else str(exc)
    text = f"MySQL: {doing + ': ' if doing else ''}({code}) {detail}"
    if code in _AUTH:
        return errors.AuthError(text)
    if code in _NOT_FOUND:
        return errors.NotFoundError(text)
    if code in _TIMEOUT:
        return errors.TimeoutError(text)
    if code in _TRANSIENT or isinstance(exc, pymysql.err.InterfaceError):
        return errors.ConnectionError(text)
    # Syntax, constraint and data errors: the inputs must change, a retry cannot help.
    return errors.InvalidInputError(text)


@asynccontextmanager
async def failures() -> AsyncIterator[None]:
    try:
        yield
    except pymysql.err.MySQLError as exc:
        raise _typed(exc) from None
    except (OSError, TimeoutError) as exc:
        raise errors.ConnectionError(f"MySQL: {exc}") from None
    except (ValueError, TypeError) as exc:  # parameters that do not fit the query's %s marks
        raise errors.InvalidInputError(f"MySQL: {exc}") from None


def quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise errors.InvalidInputError(f"invalid identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


def quote_table(name: str) -> str:
    """``table`` or ``database.table``, each part quoted (so any characters are safe)."""
    parts = name.split(".")
    if len(parts) > 2:
        raise errors.InvalidInputError(f"table {name!r} is not 'table' or 'database.table'")
    return ".".join(quote_ident(part) for part in parts)


def row_bundle(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): to_bundle_value(value) for key, value in row.items()}


def cursor_text(value: Any) -> str:
    """A column value as MySQL reads it back in a comparison (datetimes with a space)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(to_bundle_value(value))
