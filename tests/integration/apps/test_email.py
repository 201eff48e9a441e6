"""email:SendEmail against a real SMTP conversation with the sink of tests/fixtures/fakes/smtp.py.

The sink runs on 127.0.0.1, opened by the runtime's allow list as an operator would open an
internal relay; without it the guard refuses loopback and metadata addresses.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from fakes.smtp import SmtpSink
from scenarist_connector_sdk import BlockedTargetError, ConnectorRuntime, Registry, errors
from scenarist_connectors.email import connector as email_app

pytestmark = pytest.mark.integration

USER, PASSWORD = "robot@scenarist.test", "s3cret-Pa55word!"
PDF = b"%PDF-1.4 fake \x00\xff binary"


def _connection(port: int, password: str = PASSWORD, tls: str = "none") -> dict[str, Any]:
    return {
        "type": "basic",
        "parameters": {"host": "127.0.0.1", "port": str(port), "username": USER, "tls": tls},
        "secrets": {"password": password},
    }


MESSAGE: dict[str, Any] = {
    "from": "Scenarist <robot@scenarist.test>",
    "to": ["ada@example.com", {"address": "bob@example.com", "name": "Bob B."}],
    "cc": "cy@example.com",
    "bcc": ["hidden@example.com"],
    "replyTo": "help@scenarist.test",
    "subject": "Invoice été 2024",
    "text": "Hello,\nyour invoice is attached.",
    "html": '<p>Hello, <img src="cid:logo"> your invoice is attached.</p>',
    "attachments": [
        {
            "fileName": "invoice.pdf",
            "data": base64.b64encode(PDF).decode(),
            "mimeType": "application/pdf",
        },
        {
            "fileName": "logo.png",
            "data": base64.b64encode(b"\x89PNG").decode(),
            "mimeType": "image/png",
            "cid": "logo",
        },
    ],
}


async def test_send_with_both_bodies_attachments_and_blind_copies(
    runtime: ConnectorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SmtpSink(credentials=(USER, PASSWORD)) as sink:
        [out] = await runtime.execute("email:SendEmail", MESSAGE, _connection(sink.port))
    [got] = sink.received
    assert got.login == (USER, PASSWORD)
    assert got.mail_from == "robot@scenarist.test"
    recipients = ["ada@example.com", "bob@example.com", "cy@example.com", "hidden@example.com"]
    assert got.rcpt_to == recipients and out["recipients"] == recipients
    assert out["response"].startswith("OK queued") or "queued" in out["response"]
    assert sink.ehlo_names == ["[127.0.0.1]"]

    message = got.message()
    assert message["From"] == "Scenarist <robot@scenarist.test>"
    assert message["To"] == 'ada@example.com, "Bob B." <bob@example.com>'
    assert message["Cc"] == "cy@example.com"
    assert message["Bcc"] is None and b"hidden@example.com" not in got.data
    assert message["Reply-To"] == "help@scenarist.test"
    assert message["Subject"] == "Invoice été 2024"
    assert message["Message-ID"] == out["messageId"]
    assert message.get_content_type() == "multipart/mixed"

    body = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert body is not None and body.get_content() == "Hello,\nyour invoice is attached.\n"
    assert html is not None and "cid:logo" in html.get_content()
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert files["invoice.pdf"].get_content_type() == "application/pdf"
    assert files["invoice.pdf"].get_content() == PDF
    assert files["logo.png"]["Content-ID"] == "<logo>"
    assert files["logo.png"].get_content_disposition() == "inline"

    assert PASSWORD not in caplog.text
    assert base64.b64encode(PASSWORD.encode()).decode() not in caplog.text


async def test_the_same_operation_keeps_its_message_id(runtime: ConnectorRuntime) -> None:
    async with SmtpSink() as sink:
        conn = _connection(sink.port)
        run = {"run_id": "r1", "module_id": 3, "idempotency_key": "r1/3/1"}
        first = await runtime.execute("email:SendEmail", MESSAGE, conn, run)
        again = await runtime.execute("email:SendEmail", MESSAGE, conn, run)
    assert first[0]["messageId"] == again[0]["messageId"]
    assert first[0]["messageId"].endswith("@scenarist.test>")


async def test_only_html_is_a_single_html_part(runtime: ConnectorRuntime) -> None:
    inputs = {"from": USER, "to": "ada@example.com", "subject": "x", "html": "<b>hi</b>"}
    async with SmtpSink() as sink:
        await runtime.execute("email:SendEmail", inputs, _connection(sink.port))
    message = sink.received[0].message()
    assert message.get_content_type() == "text/html"
    assert message.get_content() == "<b>hi</b>\n"


async def test_a_wrong_password_is_an_auth_error_that_never_shows_it(
    runtime: ConnectorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-Pa55word"
    async with SmtpSink(credentials=(USER, PASSWORD)) as sink:
        with pytest.raises(errors.AuthError) as failure:
            await runtime.execute("email:SendEmail", MESSAGE, _connection(sink.port, wrong))
    assert sink.received == []
    for text in (caplog.text, str(failure.value), repr(failure.value)):
        assert wrong not in text and PASSWORD not in text
        assert base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode() not in text


async def test_a_relay_without_login(runtime: ConnectorRuntime) -> None:
    async with SmtpSink() as sink:
        parameters = {"host": "127.0.0.1", "port": str(sink.port), "tls": "none"}
        relay = {"type": "none", "parameters": parameters}
        await runtime.execute("email:SendEmail", MESSAGE, relay)
    assert sink.received[0].login is None


async def test_starttls_is_never_silently_skipped(runtime: ConnectorRuntime) -> None:
    async with SmtpSink() as sink:
        with pytest.raises(errors.ConfigurationError, match="STARTTLS"):
            await runtime.execute(
                "email:SendEmail", MESSAGE, _connection(sink.port, tls="starttls")
            )
    assert sink.received == []


async def test_refused_recipients(runtime: ConnectorRuntime) -> None:
    async with SmtpSink() as sink:
        conn = _connection(sink.port)
        some = {**MESSAGE, "to": ["ada@example.com", "nobody@refused.example"]}
        [out] = await runtime.execute("email:SendEmail", some, conn)
        assert "ada@example.com" in sink.received[0].rcpt_to
        assert "nobody@refused.example" not in sink.received[0].rcpt_to
        assert out["refused"] == ["nobody@refused.example"]
        assert "nobody@refused.example" not in out["recipients"]
        everyone = {"from": USER, "to": "nobody@refused.example", "text": "x"}
        with pytest.raises(errors.InvalidInputError):
            await runtime.execute("email:SendEmail", everyone, conn)
    assert len(sink.received) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "hi\r\nBcc: victim@example.com"},
        {"to": "ada@example.com\r\nBcc: victim@example.com"},
        {"to": "not-an-address"},
        {"to": [], "cc": [], "bcc": []},
        {"from": "a@example.com, b@example.com"},
        {"attachments": [{"fileName": "x", "data": "%%%not base64"}]},
        {"attachments": [{"fileName": "x", "data": "", "mimeType": "nonsense"}]},
    ],
)
async def test_bad_inputs_are_refused_before_anything_is_sent(
    runtime: ConnectorRuntime, change: dict[str, Any]
) -> None:
    async with SmtpSink() as sink:
        with pytest.raises(errors.InvalidInputError):
            await runtime.execute("email:SendEmail", {**MESSAGE, **change}, _connection(sink.port))
    assert sink.received == [] and sink.ehlo_names == []


async def test_the_smtp_host_goes_through_the_ssrf_guard() -> None:
    closed = ConnectorRuntime(Registry([email_app]))  # no allow list: loopback is refused
    try:
        async with SmtpSink() as sink:
            with pytest.raises(BlockedTargetError):
                await closed.execute("email:SendEmail", MESSAGE, _connection(sink.port))
            metadata = _connection(sink.port)
            metadata["parameters"]["host"] = "169.254.169.254"
            with pytest.raises(BlockedTargetError):
                await closed.execute("email:SendEmail", MESSAGE, metadata)
        assert sink.received == [] and sink.ehlo_names == []
    finally:
        await closed.aclose()
