from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.logging import (
    REDACTED,
    JsonFormatter,
    RedactionFilter,
    configure_logging,
    is_sensitive_key,
    redact,
)
from scenarist_observability.tracing import get_tracer


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the platform formatter and filter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("executor"))
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("scenarist.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_envelope(captured) -> None:
    logger, stream = captured
    logger.info("task %s done", "t1", extra={"module_kind": "http:MakeRequest", "attempt": 2})
    logger.warning("multi\nline")
    first, second = _lines(stream)
    assert first["message"] == "task t1 done"
    assert first["level"] == "INFO"
    assert first["logger"] == "scenarist.test.json"
    assert first["service"] == "executor"
    assert first["module_kind"] == "http:MakeRequest"
    assert first["attempt"] == 2
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert "trace_id" not in first
    assert second["message"] == "multi\nline"


def test_trace_and_span_ids_inside_a_span(captured, spans: InMemorySpanExporter) -> None:
    logger, stream = captured
    with get_tracer().start_as_current_span("work") as span:
        logger.info("inside")
    logger.info("outside")
    inside, outside = _lines(stream)
    ctx = span.get_span_context()
    assert inside["trace_id"] == format(ctx.trace_id, "032x")
    assert inside["span_id"] == format(ctx.span_id, "016x")
    assert len(inside["trace_id"]) == 32
    assert "trace_id" not in outside


def test_extra_fields_are_redacted(captured) -> None:
    logger, stream = captured
    logger.info(
        "connecting",
        extra={
            "password": "hunter2",
            "api_key": "k",
            "headers": {"Authorization": "Bearer abc", "Accept": "json", "X-Api-Key": "z"},
            "connection": {"name": "crm", "oauth": {"refresh_token": "r", "scope": "read"}},
            "items": [{"client_secret": "s"}],
            "user": "ada",
        },
    )
    (line,) = _lines(stream)
    raw = stream.getvalue()
    for secret in ("hunter2", "Bearer abc", '"k"', '"r"', '"s"', '"z"'):
        assert secret not in raw
    assert line["password"] == REDACTED
    assert line["api_key"] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "Accept": "json", "X-Api-Key": REDACTED}
    assert line["connection"]["oauth"] == {"refresh_token": REDACTED, "scope": "read"}
    assert line["items"] == [{"client_secret": REDACTED}]
    assert line["user"] == "ada"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "secret",
        "token",
        "Authorization",
        "api-key",
        "apikey",
        "access_token",
        "Set-Cookie",
        "private_key",
        "postgres_dsn",
    ],
)
def test_sensitive_keys(key: str) -> None:
    assert is_sensitive_key(key)


@pytest.mark.parametrize("key", ["user", "module_kind", "run_status", "topic", "attempt"])
def test_ordinary_keys(key: str) -> None:
    assert not is_sensitive_key(key)


def test_redact_does_not_mutate_its_input() -> None:
    original = {"token": "t", "nested": {"secret": "s"}}
    assert redact(original) == {"token": REDACTED, "nested": {"secret": REDACTED}}
    assert original == {"token": "t", "nested": {"secret": "s"}}


def test_envelope_fields_win_over_extra_and_odd_values_serialise(captured) -> None:
    logger, stream = captured
    logger.info("x", extra={"service": "spoofed", "when": datetime(2024, 1, 2), "obj": object()})
    (line,) = _lines(stream)
    assert line["service"] == "executor"
    assert line["when"].startswith("2024-01-02")
    assert line["obj"].startswith("<object object")


def test_exceptions_are_one_line_with_traceback(captured) -> None:
    logger, stream = captured
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = _lines(stream)
    assert line["level"] == "ERROR"
    assert line["exc_type"] == "ValueError"
    assert "Traceback" in line["exc"] and "boom" in line["exc"]
    assert len(stream.getvalue().splitlines()) == 1


def test_configure_logging_replaces_its_own_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    first, second = io.StringIO(), io.StringIO()
    try:
        configure_logging("trigger", "DEBUG", stream=first)
        configure_logging("trigger", "INFO", stream=second)
        logging.getLogger("scenarist.any").info("hello", extra={"token": "t"})
        assert first.getvalue() == ""
        (line,) = [json.loads(x) for x in second.getvalue().splitlines()]
        assert line["service"] == "trigger"
        assert line["token"] == REDACTED
        assert root.level == logging.INFO
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_httpx_request_lines_only_when_debugging() -> None:
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    before, level, httpx_level = list(root.handlers), root.level, httpx_logger.level
    quiet, chatty = io.StringIO(), io.StringIO()
    try:
        configure_logging("connector_gateway", "INFO", stream=quiet)
        httpx_logger.info("HTTP Request: GET https://example.com/")
        configure_logging("connector_gateway", "DEBUG", stream=chatty)
        httpx_logger.info("HTTP Request: GET https://example.com/")
        assert quiet.getvalue() == ""
        assert "HTTP Request" in chatty.getvalue()
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
        httpx_logger.setLevel(httpx_level)
