from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from scenarist_observability.grpc_tracing import TracingServerInterceptor, client_interceptors
from scenarist_observability.metrics import METRICS
from scenarist_observability.tracing import current_trace_id, get_tracer

pytestmark = pytest.mark.integration

SERVICE = "scenarist.test.v1.Echo"


def _identity(data: bytes) -> bytes:
    return data


async def echo(request: bytes, context: aio.ServicerContext) -> bytes:
    # The handler runs inside the server span, so it sees the caller's trace id.
    return (current_trace_id() or "none").encode() + b"|" + request


async def fail(request: bytes, context: aio.ServicerContext) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "no such run")


async def crash(request: bytes, context: aio.ServicerContext) -> bytes:
    raise RuntimeError("bug")


async def stream(request: bytes, context: aio.ServicerContext) -> AsyncIterator[bytes]:
    for i in range(3):
        yield f"{current_trace_id()}|{i}".encode()


@pytest.fixture
async def channel() -> AsyncIterator[aio.Channel]:
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo, _identity, _identity),
        "Fail": grpc.unary_unary_rpc_method_handler(fail, _identity, _identity),
        "Crash": grpc.unary_unary_rpc_method_handler(crash, _identity, _identity),
        "Stream": grpc.unary_stream_rpc_method_handler(stream, _identity, _identity),
    }
    server = aio.server(interceptors=[TracingServerInterceptor()])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with aio.insecure_channel(
        f"127.0.0.1:{port}", interceptors=client_interceptors()
    ) as chan:
        yield chan
    await server.stop(grace=None)


def _call(channel: aio.Channel, method: str):
    return channel.unary_unary(f"/{SERVICE}/{method}", _identity, _identity)


def _count(method: str, code: str) -> float:
    value = METRICS.grpc_server_requests.labels(method=f"/{SERVICE}/{method}", code=code)
    return value._value.get()


async def test_unary_call_is_one_trace_client_to_server(channel, spans: InMemorySpanExporter):
    before = _count("Echo", "OK")
    with get_tracer().start_as_current_span("caller") as caller:
        reply = await _call(channel, "Echo")(b"hi", timeout=5)
    trace_id = format(caller.get_span_context().trace_id, "032x")
    assert reply == trace_id.encode() + b"|hi"

    finished = spans.get_finished_spans()
    server = next(s for s in finished if s.kind is SpanKind.SERVER)
    client = next(s for s in finished if s.kind is SpanKind.CLIENT)
    assert server.name == client.name == f"/{SERVICE}/Echo"
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert client.parent is not None and client.parent.span_id == caller.get_span_context().span_id
    assert server.attributes["rpc.system"] == "grpc"
    assert server.attributes["rpc.service"] == SERVICE
    assert server.attributes["rpc.method"] == "Echo"
    assert server.attributes["rpc.grpc.status_code"] == 0
    assert _count("Echo", "OK") == before + 1


async def test_error_statuses(channel, spans: InMemorySpanExporter) -> None:
    with pytest.raises(aio.AioRpcError) as not_found:
        await _call(channel, "Fail")(b"", timeout=5)
    assert not_found.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(aio.AioRpcError) as unknown:
        await _call(channel, "Crash")(b"", timeout=5)
    assert unknown.value.code() is grpc.StatusCode.UNKNOWN

    servers = {
        s.name.rsplit("/", 1)[1]: s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER
    }
    # NOT_FOUND is the caller's problem: the server span is not an error; a crash is.
    assert servers["Fail"].attributes["rpc.grpc.status_code"] == 5
    assert servers["Fail"].status.is_unset
    assert servers["Crash"].attributes["rpc.grpc.status_code"] == 2
    assert not servers["Crash"].status.is_ok and not servers["Crash"].status.is_unset
    assert _count("Fail", "NOT_FOUND") >= 1
    assert _count("Crash", "UNKNOWN") >= 1
    clients = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert all(not s.status.is_ok for s in clients)


async def test_server_streaming_keeps_the_trace(channel, spans: InMemorySpanExporter) -> None:
    with get_tracer().start_as_current_span("caller") as caller:
        call = channel.unary_stream(f"/{SERVICE}/Stream", _identity, _identity)(b"", timeout=5)
        items = [item async for item in call]
    trace_id = format(caller.get_span_context().trace_id, "032x")
    assert items == [f"{trace_id}|{i}".encode() for i in range(3)]
    server = next(s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER)
    assert server.context.trace_id == caller.get_span_context().trace_id
