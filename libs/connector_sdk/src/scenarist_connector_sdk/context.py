"""The one object connector code receives: HTTP client, secrets, logger, metrics and run info."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from scenarist_connector_sdk.http import SafeHttpClient

__all__ = [
    "ActionContext",
    "ConnectorLogger",
    "Metrics",
    "NullMetrics",
    "Redactor",
    "RunInfo",
]

MASK = "***"


@dataclass(frozen=True)
class RunInfo:
    """On whose behalf a module runs (``scenarist.connector.v1.RunInfo``)."""

    run_id: str = ""
    module_id: int = 0
    idempotency_key: str = ""
    attempt: int = 1
    organization_id: str = ""
    scenario_id: str = ""
    task_id: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RunInfo:
        if not data:
            return cls()
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


class Metrics(Protocol):
    """Hooks the host wires to its metrics backend; connectors only name what happened."""

    def increment(self, name: str, value: float = 1.0, **labels: str) -> None: ...

    def observe(self, name: str, value: float, **labels: str) -> None: ...


class NullMetrics:
    """Metrics that go nowhere, for hosts that do not collect connector metrics."""

    def increment(self, name: str, value: float = 1.0, **labels: str) -> None:
        return None

    def observe(self, name: str, value: float, **labels: str) -> None:
        return None


class Redactor:
    """Masks every known secret, and the encodings it travels in, in any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register a secret (a connection field, a fetched access token, a basic auth blob)."""
        if not secret:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        forms.add(base64.b64encode(secret.encode()).decode())
        self._values.update(form for form in forms if form)

    def redact(self, text: str) -> str:
        # Longest first, so a secret containing another is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {key: self.redact_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(item) for item in value]
        return value


class ConnectorLogger:
    """A logger that formats eagerly so secrets can be masked before any handler sees them."""

    def __init__(
        self,
        logger: logging.Logger,
        redactor: Redactor,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self._logger = logger
        self._redactor = redactor
        self._context = dict(context or {})

    def debug(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.DEBUG, message, args, fields)

    def info(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.INFO, message, args, fields)

    def warning(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.WARNING, message, args, fields)

    def error(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields)

    def _log(
        self, level: int, message: str, args: tuple[object, ...], fields: dict[str, Any]
    ) -> None:
        if not self._logger.isEnabledFor(level):
            return
        text = message % args if args else message
        extra = self._redactor.redact_value({**self._context, **fields})
        self._logger.log(level, self._redactor.redact(text), extra=extra, stacklevel=3)


@dataclass(frozen=True)
class ActionContext:
    """Everything a module's ``run`` may use; the only seam between connector code and the host.

    Attributes:
        http: the SSRF-guarded HTTP client, already authenticated with the connection.
        secrets: the decrypted secret fields of the connection, read-only.
        parameters: the connection's non-secret settings (base URL, header name ...).
        logger: masks every secret before anything is written.
        metrics: counters and histograms the host collects.
        run: the run, module and attempt this call belongs to.
        connection_type: how the connection authenticates ("none" without a connection).
    """

    http: SafeHttpClient
    secrets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    logger: ConnectorLogger = field(
        default_factory=lambda: ConnectorLogger(
            logging.getLogger("scenarist.connector"), Redactor()
        )
    )
    metrics: Metrics = field(default_factory=NullMetrics)
    run: RunInfo = field(default_factory=RunInfo)
    connection_type: str = "none"
