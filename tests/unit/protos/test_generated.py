"""The contracts under proto/ and the code generated from them in libs/protos/src/scenarist.

These tests keep the .proto files honest (package = path, Buf-style names, a comment on every
element) and prove the generated code is current and usable: imports, round trips, a real gRPC
call, and the error convention of proto/README.md.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from importlib.resources import files
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, json_format
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import (  # type: ignore[import-untyped]  # googleapis-common-protos: no stubs
    code_pb2,
    error_details_pb2,
    status_pb2,
)
from grpc_status import rpc_status
from grpc_tools import protoc  # type: ignore[import-untyped]  # no stubs
from scenarist.common.v1 import envelope_pb2
from scenarist.run.v1 import events_pb2, run_pb2, run_service_pb2, run_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[3]
PROTO_ROOT = ROOT / "proto"
PROTO_FILES = sorted(PROTO_ROOT.rglob("*.proto"))
SERVICE_RE = re.compile(r"^service\s+(\w+)", re.MULTILINE)
PACKAGE_RE = re.compile(r"^package\s+([\w.]+)\s*;", re.MULTILINE)


def _rel(path: Path) -> str:
    return path.relative_to(PROTO_ROOT).as_posix()


def _services() -> list[tuple[Path, str]]:
    found = []
    for path in PROTO_FILES:
        for name in SERVICE_RE.findall(path.read_text(encoding="utf-8")):
            found.append((path, name))
    return found


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_protos_exist() -> None:
    assert len(PROTO_FILES) >= 10
    assert len(_services()) >= 9


def test_generated_code_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", PROTO_FILES, ids=_rel)
def test_package_matches_path(path: Path) -> None:
    packages = PACKAGE_RE.findall(path.read_text(encoding="utf-8"))
    expected = ".".join(path.relative_to(PROTO_ROOT).parent.parts)
    assert packages == [expected]
    assert re.fullmatch(r"scenarist\.[a-z_]+\.v\d+", expected), expected


@pytest.mark.parametrize("path", PROTO_FILES, ids=_rel)
def test_at_most_one_service_per_file_named_after_it(path: Path) -> None:
    services = SERVICE_RE.findall(path.read_text(encoding="utf-8"))
    assert len(services) <= 1
    for service in services:
        assert service.endswith("Service")
        assert path.name == f"{_snake(service)}.proto"


@pytest.mark.parametrize(("path", "service"), _services(), ids=lambda v: getattr(v, "name", v))
def test_every_service_imports(path: Path, service: str) -> None:
    module_name = ".".join(path.relative_to(PROTO_ROOT).with_suffix("").parts)
    grpc_module = importlib.import_module(f"{module_name}_pb2_grpc")
    messages = importlib.import_module(f"{module_name}_pb2")
    assert hasattr(grpc_module, f"{service}Stub")
    assert hasattr(grpc_module, f"{service}Servicer")
    assert hasattr(grpc_module, f"add_{service}Servicer_to_server")
    descriptor = messages.DESCRIPTOR.services_by_name[service]
    assert descriptor.full_name == f"{messages.DESCRIPTOR.package}.{service}"
    for method in descriptor.methods:
        # Buf's RPC_REQUEST_STANDARD_NAME / RPC_RESPONSE_STANDARD_NAME: one pair per RPC, so
        # each RPC can evolve its messages independently.
        assert method.input_type.name == f"{method.name}Request"
        assert method.output_type.name == f"{method.name}Response"
        assert method.input_type.file is messages.DESCRIPTOR


def _descriptor_set(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    out = tmp_path / "set.binpb"
    rc = protoc.main(
        [
            "grpc_tools.protoc",
            f"--proto_path={PROTO_ROOT}",
            f"--proto_path={files('grpc_tools') / '_proto'}",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *(_rel(p) for p in PROTO_FILES),
        ]
    )
    assert rc == 0
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


_Element = tuple[tuple[int, ...], str]  # (source-info path, readable name)


def _enum_elements(
    prefix: tuple[int, ...], e: descriptor_pb2.EnumDescriptorProto, name: str
) -> Iterator[_Element]:
    yield prefix, name
    for k, value in enumerate(e.value):
        yield (*prefix, 2, k), f"{name}.{value.name}"


def _message_elements(
    prefix: tuple[int, ...], m: descriptor_pb2.DescriptorProto, name: str
) -> Iterator[_Element]:
    # Source-info path numbers are the field numbers of DescriptorProto: field 2, nested 3,
    # enum 4, oneof 8.
    yield prefix, name
    for k, field in enumerate(m.field):
        yield (*prefix, 2, k), f"{name}.{field.name}"
    for k, oneof in enumerate(m.oneof_decl):
        if not oneof.name.startswith("_"):  # synthetic oneofs of `optional` fields
            yield (*prefix, 8, k), f"{name}.{oneof.name}"
    for k, nested in enumerate(m.nested_type):
        if not nested.options.map_entry:
            yield from _message_elements((*prefix, 3, k), nested, f"{name}.{nested.name}")
    for k, e in enumerate(m.enum_type):
        yield from _enum_elements((*prefix, 4, k), e, f"{name}.{e.name}")


def _elements(fd: descriptor_pb2.FileDescriptorProto) -> Iterator[_Element]:
    """Every message, field, oneof, enum, enum value, service and rpc of one file."""
    # FileDescriptorProto field numbers: message_type 4, enum_type 5, service 6 (method 2).
    for i, m in enumerate(fd.message_type):
        yield from _message_elements((4, i), m, m.name)
    for i, e in enumerate(fd.enum_type):
        yield from _enum_elements((5, i), e, e.name)
    for i, s in enumerate(fd.service):
        yield (6, i), s.name
        for j, method in enumerate(s.method):
            yield (6, i, 2, j), f"{s.name}.{method.name}"


def test_every_element_is_documented(tmp_path: Path) -> None:
    undocumented = []
    for fd in _descriptor_set(tmp_path).file:
        if not fd.name.startswith("scenarist/"):
            continue
        comments = {
            tuple(loc.path): loc.leading_comments.strip() for loc in fd.source_code_info.location
        }
        undocumented += [
            f"{fd.name}: {name}" for path, name in _elements(fd) if not comments.get(path)
        ]
    assert undocumented == []


def test_enums_follow_buf_naming(tmp_path: Path) -> None:
    for fd in _descriptor_set(tmp_path).file:
        if not fd.name.startswith("scenarist/"):
            continue
        for e in fd.enum_type:
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", e.name).upper() + "_"
            assert e.value[0].number == 0
            assert e.value[0].name == f"{prefix}UNSPECIFIED"
            assert all(v.name.startswith(prefix) for v in e.value), e.name


def _run_requested() -> events_pb2.RunRequested:
    requested_at = Timestamp(seconds=1_764_000_000, nanos=123_000_000)
    return events_pb2.RunRequested(
        run_id="0b7e3f9e-3c1a-4f59-9d1e-2f3a4b5c6d7e",
        organization_id="8c3a2d11-6a0b-4c1e-8f00-1a2b3c4d5e6f",
        scenario_id="5f0c8a77-1111-4222-8333-944455566677",
        trigger='{"email": "ada@example.com", "amount": 142.5}',
        idempotency_key="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        source=run_pb2.TRIGGER_SOURCE_WEBHOOK,
        requested_at=requested_at,
        reply_to="trigger-1/42",
    )


def _envelope(payload: events_pb2.RunRequested) -> envelope_pb2.Envelope:
    return envelope_pb2.Envelope(
        event_id="9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
        type="scenarist.run.requested",
        run_id=payload.run_id,
        organization_id=payload.organization_id,
        attempt=1,
        occurred_at=payload.requested_at,
        content_type="application/x-protobuf",
        payload=payload.SerializeToString(),
        source="trigger",
    )


def test_envelope_round_trips_binary() -> None:
    payload = _run_requested()
    envelope = _envelope(payload)
    decoded = envelope_pb2.Envelope.FromString(envelope.SerializeToString())
    assert decoded == envelope
    assert decoded.occurred_at.ToNanoseconds() == 1_764_000_000_123_000_000
    assert events_pb2.RunRequested.FromString(decoded.payload) == payload


def test_envelope_round_trips_json() -> None:
    envelope = _envelope(_run_requested())
    text = json_format.MessageToJson(envelope)
    assert '"occurredAt": "2025-11-24T16:00:00.123Z"' in text
    assert json_format.Parse(text, envelope_pb2.Envelope()) == envelope


def test_unknown_fields_survive_a_round_trip() -> None:
    # An older consumer that relays a newer producer's message must not drop fields it does not
    # know: this is what lets services be upgraded one at a time.
    newer = _run_requested().SerializeToString() + b"\xa8\x06\x07"  # field 101, varint 7
    relayed = events_pb2.RunRequested.FromString(newer).SerializeToString()
    assert relayed == newer


class _FailingRunService(run_service_pb2_grpc.RunServiceServicer):
    """Refuses every StartRun the way proto/README.md says servers report bad input."""

    def StartRun(
        self, request: run_service_pb2.StartRunRequest, context: grpc.ServicerContext
    ) -> run_service_pb2.StartRunResponse:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="input", description="must be a JSON object"
                )
            ]
        )
        status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="invalid StartRun")
        status.details.add().Pack(bad_request)
        context.abort_with_status(rpc_status.to_status(status))
        raise AssertionError("unreachable")  # abort raises

    def GetRun(
        self, request: run_service_pb2.GetRunRequest, context: grpc.ServicerContext
    ) -> run_service_pb2.GetRunResponse:
        metadata = dict(context.invocation_metadata())
        assert metadata["authorization"] == "Bearer sct_test"
        return run_service_pb2.GetRunResponse(
            run=run_pb2.Run(id=request.run_id, status=run_pb2.RUN_STATUS_RUNNING, operations=3)
        )

    # mypy-protobuf declares every servicer method abstract, so a type-checked servicer must
    # define them all; these are not exercised here.
    def ListRuns(
        self, request: run_service_pb2.ListRunsRequest, context: grpc.ServicerContext
    ) -> run_service_pb2.ListRunsResponse:
        raise NotImplementedError

    def CancelRun(
        self, request: run_service_pb2.CancelRunRequest, context: grpc.ServicerContext
    ) -> run_service_pb2.CancelRunResponse:
        raise NotImplementedError

    def StreamRunEvents(
        self, request: run_service_pb2.StreamRunEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[run_service_pb2.StreamRunEventsResponse]:
        raise NotImplementedError


@pytest.fixture
def run_stub() -> Iterator[run_service_pb2_grpc.RunServiceStub]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    run_service_pb2_grpc.add_RunServiceServicer_to_server(_FailingRunService(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield run_service_pb2_grpc.RunServiceStub(channel)
    finally:
        channel.close()
        server.stop(grace=None)


def test_a_real_call_carries_the_bearer_token(
    run_stub: run_service_pb2_grpc.RunServiceStub,
) -> None:
    response = run_stub.GetRun(
        run_service_pb2.GetRunRequest(run_id="r1"),
        metadata=(("authorization", "Bearer sct_test"),),
        timeout=10,
    )
    assert response.run.id == "r1"
    assert response.run.status == run_pb2.RUN_STATUS_RUNNING


def test_invalid_argument_carries_field_violations(
    run_stub: run_service_pb2_grpc.RunServiceStub,
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        run_stub.StartRun(run_service_pb2.StartRunRequest(input="[]"), timeout=10)
    error = caught.value
    assert isinstance(error, grpc.Call)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("input", "must be a JSON object")
    ]
