"""The engine's error types. Every failure the engine reports is one of these."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ScenaristError(Exception):
    """Base of every error the engine raises on purpose."""


class ErrorType(StrEnum):
    """Make's error classes; the type decides whether a retry can help."""

    CONNECTION = "ConnectionError"
    RATE_LIMIT = "RateLimitError"
    TIMEOUT = "TimeoutError"
    DATA = "DataError"
    RUNTIME = "RuntimeError"
    INVALID_CONFIGURATION = "InvalidConfigurationError"
    AUTH = "AuthError"
    NOT_FOUND = "NotFoundError"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset({ErrorType.CONNECTION, ErrorType.RATE_LIMIT, ErrorType.TIMEOUT})


class ExpressionError(ScenaristError):
    """A syntax, type or limit error in an IML expression, with where it happened."""

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        source: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.position = position
        self.source = source
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.position is not None:
            parts.append(f"at position {self.position}")
        if self.field is not None:
            parts.append(f"in field {self.field!r}")
        return " ".join(parts)

    def in_field(self, field: str) -> ExpressionError:
        """The same error, tagged with the module field it came from."""
        return ExpressionError(
            self.message, position=self.position, source=self.source, field=field
        )


class ExpressionLimitError(ExpressionError):
    """An expression hit a resource limit (depth, size, regex time): refused, never hung."""


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in a scenario document: where (module id and field path) and what."""

    path: str
    message: str
    module_id: int | None = None

    def render(self) -> str:
        where = f"module {self.module_id}: " if self.module_id is not None else ""
        return f"{where}{self.path}: {self.message}"


@dataclass
class ScenarioValidationError(ScenaristError):
    """Every problem found in a scenario document, reported at once."""

    issues: list[ValidationIssue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(issue.render() for issue in self.issues)


class ModuleError(ScenaristError):
    """A module failed on one bundle. The type decides retries and error handling."""

    def __init__(
        self,
        message: str,
        error_type: ErrorType = ErrorType.RUNTIME,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.error_type = error_type
        self.retry_after = retry_after
        super().__init__(f"{error_type.value}: {message}")
