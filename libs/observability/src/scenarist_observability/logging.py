"""JSON logs: one object per line, with the active trace and secrets masked.

Services log through the standard library (``logging.getLogger(__name__)``) and pass structured
fields with ``extra={...}``; :func:`configure_logging` installs the formatter once per process.
Log shippers (Loki, Elasticsearch, Cloud Logging) parse the lines as they are, and ``trace_id``
links a line to its trace in Grafana.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any, Final

from opentelemetry import trace

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "RedactionFilter",
    "configure_logging",
    "is_sensitive_key",
    "redact",
]

REDACTED: Final = "***"

# Substrings, matched against the lowercased key with "-" folded to "_": `X-Api-Key`,
# `client_secret`, `refresh_token`, `Authorization`, `db_password` all hit. A false positive
# costs a masked value in a log line; a false negative leaks a credential, so the list is broad.
_SENSITIVE = re.compile(
    r"pass(word|wd)?$|password|secret|token|authorization|api_?key|cookie|private_?key"
    r"|credential|signature|dsn"
)

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RESERVED: Final = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}  # uvicorn's ANSI copy of the message
)
_MAX_DEPTH: Final = 8


def is_sensitive_key(key: str) -> bool:
    """Whether a field with this name must never be logged in clear."""
    return bool(_SENSITIVE.search(key.lower().replace("-", "_")))


def redact(value: Any, *, _depth: int = 0) -> Any:
    """A copy of `value` with the values of sensitive keys masked, recursively."""
    if _depth > _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_sensitive_key(str(k)) else redact(v, _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth=_depth + 1) for v in value]
    return value


class RedactionFilter(logging.Filter):
    """Masks sensitive `extra` fields before any handler formats the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in list(vars(record).items()):
            if key in _RESERVED:
                continue
            if is_sensitive_key(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, Mapping | list | tuple):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in vars(record).items():
            # Extra fields never overwrite the envelope: a caller's `extra={"level": ...}` would
            # otherwise break every query that filters on level.
            if key not in _RESERVED and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=_fallback, ensure_ascii=False, separators=(",", ":"))


def _fallback(value: object) -> str:
    """Non-JSON values (datetimes, UUIDs, exceptions) are logged as their string form."""
    return str(value)


class _ScenaristHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marker type so a second configure_logging() replaces rather than duplicates output."""


def configure_logging(
    service: str,
    level: str | int = "INFO",
    *,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Route all stdlib logging to JSON lines on `stream` (stdout by default).

    Replaces handlers a previous call installed, keeps foreign ones (e.g. pytest's capture).
    Returns the installed handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ScenaristHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _ScenaristHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RedactionFilter())
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # uvicorn and the Kafka/gRPC clients install their own handlers or are chatty at INFO; route
    # them through ours so every line is JSON.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
    # httpx logs every request at INFO: in the gateway a second JSON line per app call next to
    # the connector's own line for the same call: about a tenth of the gateway's CPU per call.
    # Kept when debugging.
    debugging = root.getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("httpx").setLevel(logging.NOTSET if debugging else logging.WARNING)
    return handler
