"""What every servicer shares: status codes for store errors, request parsing, paging, times.

Handlers abort through these helpers so one situation always gets one status code (the table in
proto/README.md): invalid requests INVALID_ARGUMENT with BadRequest field violations, missing or
foreign objects NOT_FOUND, lost optimistic-concurrency races ABORTED.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import (  # type: ignore[import-untyped]  # googleapis-common-protos: no stubs
    code_pb2,
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status
from scenarist_storage.errors import ConflictError, InvalidPageTokenError, NotFoundError

Context = grpc.aio.ServicerContext[Any, Any]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


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


async def parse_id(context: Context, value: str, field: str) -> uuid.UUID:
    """A UUID request field; malformed or empty ids are INVALID_ARGUMENT on that field."""
    try:
        return uuid.UUID(value)
    except ValueError:
        await abort_invalid(context, f"invalid {field}", [(field, "must be a UUID")])


async def page_size(context: Context, requested: int, default: int = DEFAULT_PAGE_SIZE) -> int:
    """0 means the default; too large values are lowered, negative ones refused."""
    if requested < 0:
        await abort_invalid(context, "invalid page_size", [("page_size", "must not be negative")])
    return min(requested or default, MAX_PAGE_SIZE)


@asynccontextmanager
async def store_errors(context: Context, what: str) -> AsyncIterator[None]:
    """Map the stores' errors to status codes for the call's object `what`."""
    try:
        yield
    except NotFoundError:
        await not_found(context, what)
    except ConflictError as exc:
        await abort(context, grpc.StatusCode.ABORTED, str(exc))
    except InvalidPageTokenError as exc:
        await abort_invalid(context, "invalid page_token", [("page_token", str(exc))])


def timestamp(moment: datetime | float) -> Timestamp:
    """A Timestamp from an aware datetime or Unix seconds (the engine's clock)."""
    stamp = Timestamp()
    if isinstance(moment, datetime):
        stamp.FromDatetime(moment.astimezone(UTC))
    else:
        stamp.FromNanoseconds(int(moment * 1e9))
    return stamp
