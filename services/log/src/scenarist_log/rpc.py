"""Status codes the LogService answers with (the table in proto/README.md)."""

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
from scenarist_storage.errors import InvalidPageTokenError, NotFoundError

Context = grpc.aio.ServicerContext[Any, Any]


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
    await context.abort_with_status(rpc_status.to_status(status))  # type: ignore[attr-defined]
    raise AssertionError("unreachable: abort_with_status raises")


async def not_found(context: Context, what: str) -> NoReturn:
    await context.abort(grpc.StatusCode.NOT_FOUND, f"{what} not found")
    raise AssertionError("unreachable: abort raises")


async def parse_id(context: Context, value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        await abort_invalid(context, f"invalid {field}", [(field, "must be a UUID")])


async def optional_id(context: Context, value: str, field: str) -> uuid.UUID | None:
    return await parse_id(context, value, field) if value else None


async def page_size(context: Context, requested: int, default: int, maximum: int) -> int:
    """0 means the default; too large values are lowered, negative ones refused."""
    if requested < 0:
        await abort_invalid(context, "invalid page_size", [("page_size", "must not be negative")])
    return min(requested or default, maximum)


@asynccontextmanager
async def store_errors(context: Context, what: str) -> AsyncIterator[None]:
    try:
        yield
    except NotFoundError:
        await not_found(context, what)
    except InvalidPageTokenError as exc:
        await abort_invalid(context, "invalid page_token", [("page_token", str(exc))])


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp
