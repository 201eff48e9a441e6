"""Make's Email app: ``email:SendEmail`` over the SMTP server of the connection.

Recipients (to, cc, bcc), reply-to, subject, a text and/or HTML body and attachments from
binary bundles ({fileName, data: base64, mimeType}). The server's host goes through the SSRF
guard (private addresses need the operator's allow list); TLS is ``starttls`` (default),
``ssl`` (implicit TLS, port 465) or ``none``; the password is a secret of the connection.
"""

from __future__ import annotations

import time
from typing import Any

from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    ConnectionTypeSpec,
    Connector,
    FieldSpec,
    FieldType,
    Option,
)

from scenarist_connectors.email.message import build_message
from scenarist_connectors.email.smtp import TLS_MODES, send

__all__ = ["connector"]

_SERVER = (
    FieldSpec("host", FieldType.TEXT, "SMTP server", required=True),
    FieldSpec("port", FieldType.INTEGER, "Port (587, 465 for ssl, 25)"),
)
_SECURITY = FieldSpec(
    "tls",
    FieldType.SELECT,
    "Security",
    options=tuple(Option(mode) for mode in TLS_MODES),
    default="starttls",
)

connector = Connector(
    AppSpec(
        "email",
        "1.0.0",
        "Email",
        "Send email through your SMTP server.",
        connection_types=(
            ConnectionTypeSpec(
                "basic",
                "SMTP server with a login",
                (
                    *_SERVER,
                    FieldSpec("username", FieldType.TEXT, "User name", required=True),
                    FieldSpec("password", FieldType.TEXT, "Password", secret=True),
                    _SECURITY,
                ),
            ),
            # An internal relay that accepts mail without a login (it still needs the
            # operator's allow list when it has a private address).
            ConnectionTypeSpec("none", "SMTP relay without a login", (*_SERVER, _SECURITY)),
        ),
    )
)

_ADDRESSES = "An array of addresses, or text with commas (Name <a@b.c> is accepted)"
_ATTACHMENT = (
    FieldSpec("fileName", FieldType.TEXT, "File name", required=True),
    FieldSpec("data", FieldType.BINARY, "Data (base64)", required=True),
    FieldSpec("mimeType", FieldType.TEXT, "MIME type", default="application/octet-stream"),
    FieldSpec("cid", FieldType.TEXT, "Content-ID (inline in the HTML)"),
)


@connector.action(
    "SendEmail",
    label="Send an email",
    connection_required=True,
    inputs=[
        FieldSpec("from", FieldType.EMAIL, "From", required=True),
        FieldSpec("to", FieldType.EMAIL, "To", help=_ADDRESSES, multiple=True),
        FieldSpec("cc", FieldType.EMAIL, "Copy recipients", help=_ADDRESSES, multiple=True),
        FieldSpec("bcc", FieldType.EMAIL, "Blind copy recipients", help=_ADDRESSES, multiple=True),
        FieldSpec("replyTo", FieldType.EMAIL, "Reply-To"),
        FieldSpec("subject", FieldType.TEXT, "Subject"),
        FieldSpec("text", FieldType.TEXT, "Text content"),
        FieldSpec("html", FieldType.TEXT, "HTML content"),
        FieldSpec("attachments", FieldType.ARRAY, "Attachments", fields=_ATTACHMENT),
    ],
    outputs=[
        FieldSpec("messageId", FieldType.TEXT, "Message-ID", required=True),
        FieldSpec("recipients", FieldType.ARRAY, "Accepted recipients"),
        FieldSpec("refused", FieldType.ARRAY, "Refused recipients"),
        FieldSpec("response", FieldType.TEXT, "Server response"),
    ],
)
async def send_email(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    outgoing = build_message(inputs, ctx.run.idempotency_key, time.time())
    reply, refused = await send(ctx, outgoing)
    accepted = [address for address in outgoing.recipients if address not in refused]
    ctx.logger.info("email sent", recipients=len(accepted), refused=len(refused))
    return [
        {
            "messageId": outgoing.message_id,
            "recipients": accepted,
            "refused": refused,
            "response": reply,
        }
    ]
