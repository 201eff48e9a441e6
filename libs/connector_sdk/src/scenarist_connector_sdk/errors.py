"""Typed connector failures. The type is data the engine's retry and error handlers act on.

The names follow Make's error classes, so two of them shadow Python builtins inside modules that
import them by name; import the module (``from scenarist_connector_sdk import errors``) where
that would confuse.
"""

from __future__ import annotations

from typing import ClassVar

from scenarist_engine.errors import ErrorType, ModuleError

__all__ = [
    "AuthError",
    "BlockedTargetError",
    "ConfigurationError",
    "ConnectionError",
    "ConnectorError",
    "InvalidInputError",
    "NotFoundError",
    "RateLimitError",
    "ResponseTooLargeError",
    "TimeoutError",
]


class ConnectorError(Exception):
    """Base of every failure a connector reports on purpose.

    Attributes:
        message: human-readable explanation; never contains secrets.
        retry_after: seconds to wait before a retry can help, when the API said so.
        status_code: the HTTP status behind the failure, when there was one.
    """

    error_type: ClassVar[ErrorType] = ErrorType.RUNTIME

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message
        self.retry_after = retry_after
        self.status_code = status_code
        super().__init__(message)

    @property
    def retryable(self) -> bool:
        return self.error_type.retryable

    def to_module_error(self) -> ModuleError:
        """The engine's view of this failure."""
        return ModuleError(self.message, self.error_type, retry_after=self.retry_after)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, retry_after={self.retry_after!r})"


class ConnectionError(ConnectorError):  # Make's name, shadowing the builtin on purpose
    """The remote side could not be reached or failed (network error, 5xx). Retryable."""

    error_type = ErrorType.CONNECTION


class RateLimitError(ConnectorError):
    """The API asked us to slow down (429); ``retry_after`` says for how long. Retryable."""

    error_type = ErrorType.RATE_LIMIT


class TimeoutError(ConnectorError):  # Make's name, shadowing the builtin on purpose
    """The call did not finish in time. Retryable."""

    error_type = ErrorType.TIMEOUT


class InvalidInputError(ConnectorError):
    """The inputs (or the data the API returned) are not acceptable: Make's DataError."""

    error_type = ErrorType.DATA


class BlockedTargetError(InvalidInputError):
    """The SSRF guard refused a URL: its scheme or address is not allowed."""


class ResponseTooLargeError(InvalidInputError):
    """The response body exceeded the configured maximum size."""


class AuthError(ConnectorError):
    """The credentials were refused (401/403) or are missing."""

    error_type = ErrorType.AUTH


class NotFoundError(ConnectorError):
    """The addressed object does not exist (404)."""

    error_type = ErrorType.NOT_FOUND


class ConfigurationError(ConnectorError):
    """The module or connection is set up wrongly (unknown module, wrong connection type)."""

    error_type = ErrorType.INVALID_CONFIGURATION
