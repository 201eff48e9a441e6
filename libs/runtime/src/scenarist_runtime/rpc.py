"""Status codes every gRPC servicer answers with (the table in proto/README.md).

Handlers abort through these helpers so one situation always gets one status code: invalid
requests INVALID_ARGUMENT with google.rpc.BadRequest field violations, missing or other orgs'
objects NOT_FOUND, bad page tokens INVALID_ARGUMENT on `page_token`. What a store error other
than those means differs per service (a lost race is ABORTED for the orchestrator, a taken name
ALREADY_EXISTS for the gateway), so `store_errors` takes those codes from its caller.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import (  # type: ignore[import-untyped]  # googleapis-common-protos: no stubs
    code_pb2,
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status
from scenarist_storage.errors import InvalidPageTokenError, NotFoundError, StorageError

Context = grpc.aio.ServicerContext[Any, Any]
# What `store_errors` answers for a store error class beyond NotFound and InvalidPageToken.
StoreErrorCodes = Mapping[type[StorageError], grpc.StatusCode]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

T = TypeVar("T")


async def abort_invalid(
    context: Context, message: str, violations: Sequence[tuple[str, str]]
) -> NoReturn:
    """INVALID_ARGUMENT with one google.rpc.BadRequest field violation per (field, problem)."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
            for field, description in violations
        ]
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message)
    status.details.add().Pack(bad_request)
    # grpc-stubs lacks the aio context's abort_with_status (a coroutine in grpc.aio).
    await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]
    raise AssertionError("unreachable: abort_with_status raises")


async def abort(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: abort raises")


async def not_found(context: Context, what: str) -> NoReturn:
    await abort(context, grpc.StatusCode.NOT_FOUND, f"{what} not found")


async def found(context: Context, value: T | None, what: str) -> T:
    """`value` itself, or NOT_FOUND for `what` when the store had none for this organization."""
    if value is None:
        await not_found(context, what)
    return value


async def parse_id(context: Context, value: str, field: str) -> uuid.UUID:
    """A UUID request field; malformed or empty ids are INVALID_ARGUMENT on that field."""
    try:
        return uuid.UUID(value)
    except ValueError:
        await abort_invalid(context, f"invalid {field}", [(field, "must be a UUID")])


async def optional_id(context: Context, value: str, field: str) -> uuid.UUID | None:
    """Like `parse_id`, but an empty field (proto3's unset string) is None."""
    return await parse_id(context, value, field) if value else None


async def page_size(
    context: Context,
    requested: int,
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
) -> int:
    """0 means the default; too large values are lowered, negative ones refused."""
    if requested < 0:
        await abort_invalid(context, "invalid page_size", [("page_size", "must not be negative")])
    return min(requested or default, maximum)


@asynccontextmanager
async def store_errors(
    context: Context, what: str, codes: StoreErrorCodes | None = None
) -> AsyncIterator[None]:
    """Map the stores' errors to status codes for the call's object `what`; a store error that
    neither this nor `codes` knows propagates (and the call fails UNKNOWN, as a bug should)."""
    try:
        yield
    except NotFoundError:
        await not_found(context, what)
    except InvalidPageTokenError as exc:
        await abort_invalid(context, "invalid page_token", [("page_token", str(exc))])
    except StorageError as exc:
        code = next((c for kind, c in (codes or {}).items() if isinstance(exc, kind)), None)
        if code is None:
            raise
        await abort(context, code, str(exc))


def timestamp(moment: datetime | float) -> Timestamp:
    """A Timestamp from an aware datetime or Unix seconds (the engine's clock)."""
    stamp = Timestamp()
    if isinstance(moment, datetime):
        stamp.FromDatetime(moment.astimezone(UTC))
    else:
        stamp.FromNanoseconds(int(moment * 1e9))
    return stamp
