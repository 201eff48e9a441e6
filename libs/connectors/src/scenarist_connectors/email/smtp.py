"""Delivering a message over SMTP to the connection's server, through the SSRF guard.

The host is resolved and checked like an HTTP target; the TCP connection is opened to the
checked address by us, and aiosmtplib runs on that socket. TLS (implicit or STARTTLS) still
verifies the certificate against the host *name*, so pinning the address costs no security.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import aiosmtplib
from scenarist_connector_sdk import ActionContext, errors

from scenarist_connectors.email.message import Outgoing

__all__ = ["TLS_MODES", "send"]

TLS_MODES = ("starttls", "ssl", "none")
CONNECT_TIMEOUT = 15.0
SEND_TIMEOUT = 60.0
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def _settings(ctx: ActionContext) -> tuple[str, str, int]:
    params = ctx.parameters
    host = str(params.get("host") or "")
    if not host:
        raise errors.ConfigurationError("SMTP: the connection has no host")
    tls = str(params.get("tls") or "starttls")
    if tls not in TLS_MODES:
        raise errors.ConfigurationError(f"SMTP: TLS mode must be one of {', '.join(TLS_MODES)}")
    return host, tls, int(params.get("port") or _DEFAULT_PORTS[tls])


async def _socket(addresses: list[str], port: int) -> socket.socket:
    """A connected socket to the first checked address that answers."""
    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (address, port)), CONNECT_TIMEOUT)
            return sock
        except (OSError, TimeoutError) as exc:
            sock.close()
            failure = exc if isinstance(exc, OSError) else OSError(f"timed out: {exc}")
    raise errors.ConnectionError(f"SMTP: cannot connect to port {port}: {failure}")


def _ehlo_name(sock: socket.socket) -> str:
    # An address literal (RFC 5321 4.1.3): no DNS lookup of our own name, no host name leaked.
    address = str(sock.getsockname()[0])
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def _client(ctx: ActionContext, host: str, tls: str, sock: socket.socket) -> Any:
    username = str(ctx.parameters.get("username") or "")
    return aiosmtplib.SMTP(
        hostname=host,  # the name: TLS verifies the certificate against it, not the address
        sock=sock,
        local_hostname=_ehlo_name(sock),
        username=username or None,
        password=(ctx.secrets.get("password") or None) if username else None,
        use_tls=tls == "ssl",
        # True fails when the server offers no STARTTLS: never a silent downgrade to plain text.
        start_tls=tls == "starttls",
        tls_context=ssl.create_default_context() if tls != "none" else None,
        timeout=SEND_TIMEOUT,
    )


async def send(ctx: ActionContext, outgoing: Outgoing) -> tuple[str, list[str]]:
    """Deliver the message: the server's final reply and the recipients it refused (when it
    accepted others; refusing all is an InvalidInputError). Typed errors on failure."""
    host, tls, port = _settings(ctx)
    addresses = await ctx.http.guard.resolve(host, port)
    sock = await _socket(addresses, port)
    client = _client(ctx, host, tls, sock)
    try:
        async with client:
            refused, reply = await client.send_message(
                outgoing.message, sender=outgoing.sender, recipients=list(outgoing.recipients)
            )
    except aiosmtplib.SMTPException as exc:
        raise _typed(exc) from None
    finally:
        sock.close()
    if refused:
        ctx.logger.warning("SMTP: some recipients were refused", refused=sorted(refused))
    return str(reply), sorted(refused)


def _typed(exc: aiosmtplib.SMTPException) -> errors.ConnectorError:
    # Only the server's words go into the message: never the login that was sent.
    text = f"SMTP: {type(exc).__name__}: {getattr(exc, 'message', '') or exc}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return errors.AuthError(text)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return errors.TimeoutError(text)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return errors.ConnectionError(text)
    code = getattr(exc, "code", 0) or 0
    if 400 <= code < 500:  # transient per RFC 5321: a later attempt may pass
        return errors.ConnectionError(text)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPSenderRefused):
        return errors.InvalidInputError(text)
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or "not supported" in text:
        # e.g. STARTTLS asked for and not offered: the connection's settings must change.
        return errors.ConfigurationError(text)
    return errors.ConnectionError(text) if code == 0 else errors.InvalidInputError(text)
