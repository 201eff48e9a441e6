"""Building the MIME message of ``email:SendEmail``: addresses checked, headers safe, files.

``email.policy.SMTP`` refuses CR and LF inside header values, so no mapped value can add a
header (a ``Bcc:`` smuggled in a subject); every such refusal becomes an InvalidInputError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Any

from scenarist_connector_sdk import InvalidInputError

__all__ = ["MAX_MESSAGE_BYTES", "Outgoing", "build_message", "parse_addresses"]

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_RECIPIENTS = 100


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire, and the envelope it travels in."""

    message: EmailMessage
    sender: str
    recipients: tuple[str, ...]
    message_id: str


def _raw_addresses(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [_address_text(item) for item in value if item not in (None, "")]
    return [str(value)]


def _address_text(item: Any) -> str:
    # Make's recipient arrays may hold collections such as {"address": "…", "name": "…"}.
    if isinstance(item, dict):
        address, name = str(item.get("address") or item.get("email") or ""), item.get("name")
        return f"{name} <{address}>" if name else address
    return str(item)


def parse_addresses(value: Any, field: str) -> list[Address]:
    """Every address of a field (an array, or text with commas), each checked."""
    addresses: list[Address] = []
    for raw in _raw_addresses(value):
        if "\r" in raw or "\n" in raw:
            raise InvalidInputError(f"{field}: an address contains a line break")
        for name, address in getaddresses([raw]):
            addresses.append(_checked(name, address, field))
    return addresses


def _checked(name: str, address: str, field: str) -> Address:
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in address):
        raise InvalidInputError(f"{field}: {address or name!r} is not an email address")
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise InvalidInputError(f"{field}: {address!r} is not an email address") from exc


def _message_id(key: str, sender: Address) -> str:
    # Derived from the operation's idempotency key: a retried send carries the same id, so
    # the receiving side can tell a duplicate.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32] if key else ""
    return f"<{digest or 'scenarist'}@{sender.domain}>"


def _attach(message: EmailMessage, item: Any, position: int) -> None:
    if not isinstance(item, dict):
        raise InvalidInputError(f"attachment {position}: expected {{fileName, data, mimeType}}")
    name = str(item.get("fileName") or item.get("name") or f"attachment-{position}")
    try:
        data = base64.b64decode(str(item.get("data") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"attachment {name!r}: data is not base64") from exc
    mime = str(item.get("mimeType") or item.get("mime") or "application/octet-stream")
    maintype, slash, subtype = mime.partition("/")
    if not slash or not maintype or not subtype:
        raise InvalidInputError(f"attachment {name!r}: {mime!r} is not a MIME type")
    cid = str(item.get("cid") or "")
    message.add_attachment(
        data,
        maintype=maintype,
        subtype=subtype,
        filename=name,
        disposition="inline" if cid else "attachment",
        cid=f"<{cid}>" if cid else None,
    )


def _body(message: EmailMessage, text: str, html: str) -> None:
    if text or not html:
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")


def build_message(inputs: dict[str, Any], idempotency_key: str, now: float) -> Outgoing:
    """The message for the module's inputs; InvalidInputError for anything unsafe or wrong."""
    [sender] = _one(parse_addresses(inputs.get("from"), "from"), "from")
    to, cc = parse_addresses(inputs.get("to"), "to"), parse_addresses(inputs.get("cc"), "cc")
    bcc = parse_addresses(inputs.get("bcc"), "bcc")
    recipients = tuple(dict.fromkeys(a.addr_spec for a in (*to, *cc, *bcc)))
    if not recipients:
        raise InvalidInputError("the email has no recipient (to, cc or bcc)")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidInputError(f"more than {MAX_RECIPIENTS} recipients")
    message = EmailMessage(policy=policy.SMTP)
    message_id = _message_id(idempotency_key, sender)
    try:
        _headers(message, inputs, sender, to, cc)
        message["Date"] = formatdate(now, localtime=False)
        message["Message-ID"] = message_id
        _body(message, str(inputs.get("text") or ""), str(inputs.get("html") or ""))
        for position, item in enumerate(_items(inputs.get("attachments")), 1):
            _attach(message, item, position)
        size = len(message.as_bytes())
    except (ValueError, TypeError) as exc:  # header injection, bad names: the inputs' fault
        raise InvalidInputError(f"cannot build the email: {exc}") from exc
    if size > MAX_MESSAGE_BYTES:
        raise InvalidInputError(f"the email is larger than {MAX_MESSAGE_BYTES} bytes")
    return Outgoing(message, sender.addr_spec, recipients, message_id)


def _headers(
    message: EmailMessage,
    inputs: dict[str, Any],
    sender: Address,
    to: list[Address],
    cc: list[Address],
) -> None:
    message["From"] = sender
    if to:
        message["To"] = to
    if cc:
        message["Cc"] = cc
    reply_to = parse_addresses(inputs.get("replyTo"), "replyTo")
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = str(inputs.get("subject") or "")


def _one(addresses: list[Address], field: str) -> list[Address]:
    if len(addresses) != 1:
        raise InvalidInputError(f"{field} needs exactly one address")
    return addresses


def _items(value: Any) -> Iterable[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise InvalidInputError("attachments must be an array of {fileName, data, mimeType}")
    return value
