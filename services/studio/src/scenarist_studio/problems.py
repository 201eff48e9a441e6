"""REST errors as RFC 9457 problem+json, and the mapping from gRPC status codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
import orjson
from google.rpc import error_details_pb2  # type: ignore[import-untyped]  # no stubs
from grpc_status import rpc_status
from starlette.responses import Response

__all__ = ["ApiError", "from_rpc_error", "problem_response"]

_HTTP_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "Invalid request"),
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Forbidden"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "Already exists"),
    grpc.StatusCode.ABORTED: (409, "Changed by someone else"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "Not possible now"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "The studio's service token was refused"),
    grpc.StatusCode.UNAVAILABLE: (503, "A service is unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "A service did not answer in time"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "Not available in this installation"),
}


@dataclass
class ApiError(Exception):
    status: int
    title: str
    detail: str = ""
    violations: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            found["detail"] = self.detail
        if self.violations:
            found["violations"] = self.violations
        return found


def problem_response(error: ApiError) -> Response:
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status,
        media_type="application/problem+json",
        headers=error.headers,
    )


def _violations(error: grpc.aio.AioRpcError) -> list[dict[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found: list[dict[str, str]] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found += [
                {"field": v.field, "message": v.description} for v in request.field_violations
            ]
    return found


def from_rpc_error(error: grpc.aio.AioRpcError) -> ApiError:
    status, title = _HTTP_BY_CODE.get(error.code(), (502, "A service failed"))
    detail = error.details() or ""
    violations = _violations(error) if error.code() == grpc.StatusCode.INVALID_ARGUMENT else []
    return ApiError(status, title, detail, violations)
