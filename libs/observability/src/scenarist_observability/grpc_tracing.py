"""grpc.aio interceptors that carry the trace across gRPC calls and time every server method.

Server: ``grpc.aio.server(interceptors=[TracingServerInterceptor()])`` starts a SERVER span per
call whose parent comes from the caller's metadata, and records
``scenarist_grpc_server_requests_total{method, code}`` and the request duration.
Client: ``grpc.aio.insecure_channel(target, interceptors=client_interceptors())`` opens a CLIENT
span per call and injects its context into the outgoing metadata.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from grpc import aio
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from scenarist_observability.metrics import METRICS, Metrics
from scenarist_observability.tracing import (
    extract_grpc_context,
    get_tracer,
    inject_grpc_metadata,
    service_scope,
)

__all__ = [
    "TracingServerInterceptor",
    "TracingUnaryStreamClientInterceptor",
    "TracingUnaryUnaryClientInterceptor",
    "client_interceptors",
]

# Codes that mean "the server failed", as opposed to the caller asking for something invalid;
# only these mark a SERVER span as an error (OTel rpc semantic conventions).
_SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _rpc_attributes(full_method: str) -> dict[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


def _method_name(method: str | bytes) -> str:
    return method.decode("utf-8", "replace") if isinstance(method, bytes) else method


class TracingServerInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Starts a SERVER span from the incoming metadata around every handled call.

    `service_of` names the Scenarist service that owns a full method name; the handler then runs
    in that service's :func:`~scenarist_observability.tracing.service_scope` (one process may
    serve several services in standalone mode).
    """

    def __init__(
        self,
        *,
        tracer: Tracer | None = None,
        metrics: Metrics | None = None,
        service_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._tracer = tracer
        self._metrics = metrics or METRICS
        self._service_of = service_of

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],  # type: ignore[type-arg]
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:  # type: ignore[type-arg]
        handler = await continuation(handler_call_details)
        if handler is None:
            # Unknown method: gRPC answers UNIMPLEMENTED; recording it would let any client mint
            # new `method` label values.
            return handler
        method = _method_name(handler_call_details.method)
        metadata = list(handler_call_details.invocation_metadata or ())
        call = _ServerCall(self, method, metadata)
        kwargs: dict[str, Any] = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(call.unary(handler.unary_unary), **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(call.unary(handler.stream_unary), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(call.stream(handler.unary_stream), **kwargs)
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                call.stream(handler.stream_stream), **kwargs
            )
        return handler

    @property
    def tracer(self) -> Tracer:
        # Resolved per call, not at construction, so servers built before configure_tracing()
        # still export spans.
        return self._tracer or get_tracer()

    def service_of(self, method: str) -> str | None:
        return self._service_of(method) if self._service_of is not None else None


class _ServerCall:
    """Wraps one method's behaviour in a span and metrics."""

    def __init__(
        self, owner: TracingServerInterceptor, method: str, metadata: list[tuple[str, Any]]
    ) -> None:
        self._owner = owner
        self._method = method
        self._metadata = metadata

    @contextmanager
    def _observe(self, context: aio.ServicerContext) -> Iterator[Span]:  # type: ignore[type-arg]
        service = self._owner.service_of(self._method)
        if service is None:
            with self._span(context) as span:
                yield span
            return
        with service_scope(service), self._span(context) as span:
            yield span

    @contextmanager
    def _span(self, context: aio.ServicerContext) -> Iterator[Span]:  # type: ignore[type-arg]
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        with self._owner.tracer.start_as_current_span(
            self._method,
            context=extract_grpc_context(self._metadata),
            kind=SpanKind.SERVER,
            attributes=_rpc_attributes(self._method),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as exc:
                # context.abort() raises after setting the code; anything else is a handler bug.
                code = _context_code(context) or grpc.StatusCode.UNKNOWN
                if code is grpc.StatusCode.OK:
                    code = grpc.StatusCode.UNKNOWN
                if code in _SERVER_ERROR_CODES:
                    span.record_exception(exc)
                raise
            else:
                code = _context_code(context) or grpc.StatusCode.OK
            finally:
                span.set_attribute("rpc.grpc.status_code", code.value[0])
                if code in _SERVER_ERROR_CODES:
                    span.set_status(Status(StatusCode.ERROR, code.name))
                metrics = self._owner._metrics
                metrics.grpc_server_requests.labels(method=self._method, code=code.name).inc()
                metrics.grpc_server_request_duration.labels(method=self._method).observe(
                    time.perf_counter() - started
                )

    def unary(self, behavior: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def wrapped(request: Any, context: aio.ServicerContext) -> Any:  # type: ignore[type-arg]
            with self._observe(context):
                result = behavior(request, context)
                return await result if inspect.isawaitable(result) else result

        return wrapped

    def stream(self, behavior: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
        async def wrapped(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:  # type: ignore[type-arg]
            with self._observe(context):
                result = behavior(request, context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                elif inspect.isawaitable(result):
                    await result  # handler writes with context.write()
                else:
                    for item in result:
                        yield item

        return wrapped


def _context_code(context: aio.ServicerContext) -> grpc.StatusCode | None:  # type: ignore[type-arg]
    try:
        code = context.code()
    except (AttributeError, NotImplementedError):  # older runtimes lack ServicerContext.code()
        return None
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):  # some grpcio versions return the raw integer
        return next((c for c in grpc.StatusCode if c.value[0] == code), None)
    return None


# --- client --------------------------------------------------------------------------------


def _details_with_context(details: aio.ClientCallDetails, span: Span) -> aio.ClientCallDetails:
    context = trace.set_span_in_context(span)
    metadata = aio.Metadata(*inject_grpc_metadata(list(details.metadata or ()), context=context))
    return aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


def _finish_client_span(span: Span, code: grpc.StatusCode) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code is not grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, code.name))
    span.end()


class TracingUnaryUnaryClientInterceptor(aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Opens a CLIENT span per unary call and sends its context in the metadata."""

    def __init__(self, *, tracer: Tracer | None = None) -> None:
        self._tracer = tracer

    async def intercept_unary_unary(
        self,
        continuation: Callable[[aio.ClientCallDetails, Any], Any],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = _method_name(client_call_details.method)
        span = (self._tracer or get_tracer()).start_span(
            method, kind=SpanKind.CLIENT, attributes=_rpc_attributes(method)
        )
        try:
            call = await continuation(_details_with_context(client_call_details, span), request)
            code = await call.code()  # waits for completion without raising on error statuses
        except BaseException as exc:
            span.record_exception(exc)
            _finish_client_span(span, grpc.StatusCode.UNKNOWN)
            raise
        _finish_client_span(span, code)
        return call


class TracingUnaryStreamClientInterceptor(aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    """Same for server-streaming calls; the span ends when the stream does."""

    def __init__(self, *, tracer: Tracer | None = None) -> None:
        self._tracer = tracer
        self._pending: set[asyncio.Task[None]] = set()

    async def intercept_unary_stream(
        self,
        continuation: Callable[[aio.ClientCallDetails, Any], Any],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = _method_name(client_call_details.method)
        span = (self._tracer or get_tracer()).start_span(
            method, kind=SpanKind.CLIENT, attributes=_rpc_attributes(method)
        )
        try:
            call = await continuation(_details_with_context(client_call_details, span), request)
        except BaseException as exc:
            span.record_exception(exc)
            _finish_client_span(span, grpc.StatusCode.UNKNOWN)
            raise

        async def finish() -> None:
            _finish_client_span(span, await call.code())

        # Keep a reference: the event loop only holds weak references to tasks.
        task = asyncio.get_running_loop().create_task(finish())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return call


def client_interceptors(*, tracer: Tracer | None = None) -> list[Any]:
    """The interceptors every internal gRPC channel should use.

    Typed as ``list[Any]`` because grpc-stubs declares ``aio.ClientInterceptor`` as a partial stub.
    """
    return [
        TracingUnaryUnaryClientInterceptor(tracer=tracer),
        TracingUnaryStreamClientInterceptor(tracer=tracer),
    ]
