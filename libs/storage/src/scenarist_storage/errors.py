"""Errors every store raises, whatever its implementation, so callers map them once (gRPC status
codes, HTTP problem+json) without knowing whether Postgres or memory is behind the port."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error a store raises on purpose."""


class NotFoundError(StorageError):
    """The object does not exist *in this organization* (another org's object is not found too,
    so ids never leak across tenants)."""


class ConflictError(StorageError):
    """A write lost a race or contradicts existing data (e.g. an expected version moved on)."""


class IntegrityError(StorageError):
    """The data breaks a constraint; the whole batch it belonged to changed nothing."""


class InvalidPageTokenError(StorageError, ValueError):
    """The page token was not produced by this store for this listing."""


class LimitExceededError(StorageError):
    """A write would take an object over one of its limits (a data store's size or record count);
    nothing changed."""
