"""Printing results and gRPC errors: JSON on stdout (indented when a person is watching), errors
as JSON on stderr with the status code, message and field violations."""

from __future__ import annotations

import json
import sys
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.rpc import error_details_pb2  # type: ignore[import-untyped]  # no stubs
from grpc_status import rpc_status

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
# Fields holding JSON text (the API carries free-form data as strings): shown decoded.
JSON_TEXT_FIELDS = frozenset({"document", "response", "input", "output", "result"})


def _decode_json_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _maybe_json(item) if key in JSON_TEXT_FIELDS else _decode_json_text(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_decode_json_text(item) for item in value]
    return value


def _maybe_json(value: Any) -> Any:
    if not isinstance(value, str):
        return _decode_json_text(value)
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def as_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data: proto field names, enum names, JSON text fields decoded."""
    data = MessageToDict(message, preserving_proto_field_name=True)
    decoded: dict[str, Any] = _decode_json_text(data)
    return decoded


def render(value: Any, *, pretty: bool) -> str:
    return json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)


def print_json(value: Any) -> None:
    print(render(value, pretty=sys.stdout.isatty()))


def error_report(error: grpc.RpcError) -> dict[str, Any]:
    """{"error", "code", "violations"} from a failed call, rich status details included."""
    code = error.code() if isinstance(error, grpc.Call) else None
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    violations: list[dict[str, str]] = []
    status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    details_any: list[Any] = list(status.details) if status is not None else []
    for detail in details_any:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            violations.extend(
                {"field": v.field, "description": v.description}
                for v in bad_request.field_violations
            )
    return {
        "error": details or "",
        "code": code.name if code is not None else "UNKNOWN",
        "violations": violations,
    }


def exit_code_for(error: grpc.RpcError) -> int:
    code = error.code() if isinstance(error, grpc.Call) else None
    return EXIT_INVALID if code is grpc.StatusCode.INVALID_ARGUMENT else EXIT_FAILED


def print_error(report: dict[str, Any]) -> None:
    print(json.dumps(report, ensure_ascii=False), file=sys.stderr)
