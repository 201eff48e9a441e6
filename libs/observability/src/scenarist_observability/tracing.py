"""OpenTelemetry setup and W3C trace-context propagation across Kafka and gRPC.

One run is one trace: the trigger starts it, and the context travels in Kafka headers
(``traceparent``/``tracestate``/``baggage``) and gRPC metadata to every service that touches the
run. Consumers make the producer's span the *parent* of their ``process <topic>`` span (not only a
link, as the messaging conventions allow) precisely so that the run stays one trace.

gRPC interceptors live in :mod:`scenarist_observability.grpc_tracing` so this module does not
import grpcio.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from scenarist_observability.sampling import ExportingSampler

__all__ = [
    "SERVICE_ATTRIBUTE",
    "ExporterChoice",
    "KafkaHeaders",
    "carrier_of",
    "context_of",
    "current_service",
    "current_trace_id",
    "extract_grpc_context",
    "extract_kafka_context",
    "get_tracer",
    "has_trace_context",
    "inject_grpc_metadata",
    "inject_kafka_headers",
    "kafka_process_batch_span",
    "kafka_process_span",
    "kafka_publish_span",
    "service_scope",
    "shutdown_tracing",
    "spans_recorded",
    "start_kafka_process_span",
    "start_kafka_publish_span",
    "trace_carrier",
]

log = logging.getLogger(__name__)

KafkaHeaders = list[tuple[str, bytes]]
GrpcMetadata = list[tuple[str, str | bytes]]
ExporterChoice = Literal["none", "console", "otlp"] | SpanExporter | None

_TRACER_NAME = "scenarist"
#: Span attribute naming the Scenarist service that made the span. The resource says the same in
#: distributed mode; in standalone mode all five services share one process and one resource.
SERVICE_ATTRIBUTE = "scenarist.service"
_TRACEPARENT = "traceparent"
_service: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "scenarist_service", default=None
)
_MAX_BATCH_LINKS = 128  # a 5000-message batch must not produce a 5000-link span
_lock = threading.Lock()
_provider: TracerProvider | None = None
_sampler = ExportingSampler()
_W3C_FIELDS = frozenset({"traceparent", "tracestate"})
_tracers: dict[str, Tracer] = {}

# Module paths of the optional OTLP exporters, tried in order; neither is a dependency of ours.
_OTLP_MODULES = (
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
)


def _otlp_exporter() -> SpanExporter | None:
    for module_name in _OTLP_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        exporter: SpanExporter = module.OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
        return exporter
    log.warning(
        "OTEL_EXPORTER_OTLP_ENDPOINT is set but no OTLP exporter package is installed; "
        "spans are not exported",
        extra={"wanted": list(_OTLP_MODULES)},
    )
    return None


def _resolve_exporter(choice: ExporterChoice) -> SpanExporter | None:
    if isinstance(choice, SpanExporter):
        return choice
    if choice is None:
        # The OTel auto-configuration variables, so the Helm chart can use the standard ones.
        env_choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if env_choice in {"none", "console", "otlp"}:
            choice = env_choice  # type: ignore[assignment]
        elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            choice = "otlp"
        else:
            choice = "none"
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        return _otlp_exporter()
    return None


@contextmanager
def service_scope(name: str) -> Iterator[None]:
    """Spans started in this scope, and in tasks spawned from it, carry ``scenarist.service``."""
    token = _service.set(name)
    try:
        yield
    finally:
        _service.reset(token)


def current_service() -> str | None:
    return _service.get()


class _ServiceAttributeProcessor(SpanProcessor):
    """Stamps ``scenarist.service`` from the active :func:`service_scope` on every new span."""

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        service = _service.get()
        if service and not (span.attributes or {}).get(SERVICE_ATTRIBUTE):
            span.set_attribute(SERVICE_ATTRIBUTE, service)


def _processor_for(exporter: SpanExporter) -> SpanProcessor:
    # Tests read in-memory spans right after the code under test returns: export synchronously.
    if isinstance(exporter, InMemorySpanExporter):
        return SimpleSpanProcessor(exporter)
    return BatchSpanProcessor(exporter)


def configure_tracing(
    service_name: str,
    *,
    exporter: ExporterChoice = None,
    version: str | None = None,
) -> TracerProvider:
    """Install the process-wide TracerProvider (once) and return it.

    `exporter`: ``None`` follows the environment (``OTEL_TRACES_EXPORTER``, else OTLP when
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and an OTLP exporter is importable, else none);
    ``"none"``/``"console"``/``"otlp"``; or a SpanExporter instance (e.g. InMemorySpanExporter).

    OTel allows one global provider per process. In standalone mode every service calls this, so
    later calls return the first provider (adding an explicitly passed exporter instance to it).
    """
    global _provider  # noqa: PLW0603 - the provider is process-global by OTel's design
    with _lock:
        if _provider is not None:
            if isinstance(exporter, SpanExporter):
                _provider.add_span_processor(_processor_for(exporter))
                _sampler.exporting = True
            return _provider
        attributes: dict[str, AttributeValue] = {
            SERVICE_NAME: service_name,
            "service.namespace": "scenarist",
        }
        if version:
            attributes[SERVICE_VERSION] = version
        provider = TracerProvider(resource=Resource.create(attributes), sampler=_sampler)
        provider.add_span_processor(_ServiceAttributeProcessor())
        resolved = _resolve_exporter(exporter)
        if resolved is not None:
            provider.add_span_processor(_processor_for(resolved))
            _sampler.exporting = True
        trace.set_tracer_provider(provider)
        _provider = provider
        return provider


def shutdown_tracing() -> None:
    """Flush and stop exporters (call at the very end of shutdown)."""
    with _lock:
        if _provider is not None:
            _provider.shutdown()


def get_tracer(name: str = _TRACER_NAME) -> Tracer:
    """A tracer from the global provider (a no-op tracer until configure_tracing ran).

    Cached for good: OTel sets the global provider once per process, and a tracer taken before
    that is a proxy that follows it. Asking OTel each time cost a lookup in os.environ (a
    KeyError raised and caught inside) per span: 2.5 % of a standalone webhook's CPU."""
    tracer = _tracers.get(name)
    if tracer is None:
        tracer = _tracers[name] = trace.get_tracer_provider().get_tracer(name)
    return tracer


def spans_recorded() -> bool:
    """Whether spans are recorded (an exporter is installed). When not, per-message spans are
    skipped: messages carry their trace context on unchanged, which is all that a span nobody
    records would have added (its trace id is the same)."""
    return _sampler.exporting


def trace_carrier(headers: Iterable[tuple[str, bytes | str | None]] | None) -> dict[str, str]:
    """The W3C fields of Kafka headers as they are, unparsed (the last of a repeated one)."""
    carrier: dict[str, str] = {}
    for key, value in headers or ():
        name = key.lower()
        if value is not None and name in _W3C_FIELDS:
            carrier[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return carrier


def current_trace_id() -> str | None:
    """The active trace id as 32 hex digits (for API responses and error messages)."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


# --- Kafka ---------------------------------------------------------------------------------


def inject_kafka_headers(
    headers: Iterable[tuple[str, bytes]] | None = None, *, context: Context | None = None
) -> KafkaHeaders:
    """`headers` plus the current (or given) trace context; stale context headers are replaced."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    keep = [(k, v) for k, v in headers or () if k.lower() not in carrier]
    return keep + [(k, v.encode("utf-8")) for k, v in carrier.items()]


def extract_kafka_context(headers: Iterable[tuple[str, bytes | str | None]] | None) -> Context:
    """The trace context carried by Kafka headers (an empty context if there is none)."""
    carrier: dict[str, str] = {}
    for key, value in headers or ():
        if value is None:
            continue
        # Kafka allows repeated headers; the last one wins, as in scenarist_bus.Message.header.
        carrier[key.lower()] = (
            value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        )
    return propagate.extract(carrier)


def _kafka_attributes(
    topic: str,
    operation: Literal["publish", "process"],
    partition: int | None,
    offset: int | None = None,
    consumer_group: str | None = None,
) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.name": operation,
        "messaging.operation.type": "send" if operation == "publish" else "process",
    }
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    if consumer_group:
        attributes["messaging.consumer.group.name"] = consumer_group
    return attributes


def has_trace_context(headers: Iterable[tuple[str, bytes | str | None]] | None) -> bool:
    """Whether `headers` carry a ``traceparent`` (cheap: no parsing)."""
    return any(key.lower() == _TRACEPARENT for key, _ in headers or ())


def carrier_of(context: Context | None = None) -> dict[str, str]:
    """The W3C fields of the current (or given) context (e.g. a run keeps its trace in these)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def context_of(carrier: Mapping[str, str] | None) -> Context:
    """The context :func:`carrier_of` captured (an empty context for an empty carrier)."""
    return propagate.extract(dict(carrier or {}))


def start_kafka_publish_span(
    topic: str, *, parent: Context | None = None, key: bytes | str | None = None
) -> Span:
    """A PRODUCER span ``publish <topic>`` that is *not* made current (for batched sends)."""
    attributes = _kafka_attributes(topic, "publish", None)
    if key is not None:
        attributes["messaging.kafka.message.key"] = (
            key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        )
    return get_tracer().start_span(
        f"publish {topic}", context=parent, kind=SpanKind.PRODUCER, attributes=attributes
    )


def start_kafka_process_span(
    topic: str,
    headers: Iterable[tuple[str, bytes | str | None]] | None,
    *,
    partition: int | None = None,
    offset: int | None = None,
    consumer_group: str | None = None,
) -> Span:
    """A CONSUMER span ``process <topic>`` child of the producer's, *not* made current: batch
    consumers open one per record and end them together once the batch is done."""
    return get_tracer().start_span(
        f"process {topic}",
        context=extract_kafka_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=_kafka_attributes(topic, "process", partition, offset, consumer_group),
    )


@contextmanager
def kafka_publish_span(
    topic: str,
    headers: Iterable[tuple[str, bytes]] | None = None,
    *,
    key: bytes | str | None = None,
    partition: int | None = None,
) -> Iterator[tuple[Span, KafkaHeaders]]:
    """A PRODUCER span ``publish <topic>``; yields it and the headers to send with the message.

    >>> with kafka_publish_span("runs.requested", key=run_id) as (span, headers):
    ...     await producer.send(topic, value, key=run_id, headers=headers)
    """
    attributes = _kafka_attributes(topic, "publish", partition)
    if key is not None:
        attributes["messaging.kafka.message.key"] = (
            key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        )
    with get_tracer().start_as_current_span(
        f"publish {topic}", kind=SpanKind.PRODUCER, attributes=attributes
    ) as span:
        yield span, inject_kafka_headers(headers)


@contextmanager
def kafka_process_span(
    topic: str,
    headers: Iterable[tuple[str, bytes | str | None]] | None,
    *,
    partition: int | None = None,
    offset: int | None = None,
    consumer_group: str | None = None,
) -> Iterator[Span]:
    """A CONSUMER span ``process <topic>`` whose parent is the producer's context."""
    with get_tracer().start_as_current_span(
        f"process {topic}",
        context=extract_kafka_context(headers),
        kind=SpanKind.CONSUMER,
        attributes=_kafka_attributes(topic, "process", partition, offset, consumer_group),
    ) as span:
        yield span


@contextmanager
def kafka_process_batch_span(
    topic: str,
    headers_per_message: Sequence[Iterable[tuple[str, bytes | str | None]]],
    *,
    partition: int | None = None,
    consumer_group: str | None = None,
) -> Iterator[Span]:
    """A CONSUMER span for a whole batch, *linked* to each message's producer span.

    Use it around the batch transaction; per-run work inside it should still open
    :func:`kafka_process_span` per message so each run's trace continues.
    """
    links: list[Link] = []
    for headers in headers_per_message[:_MAX_BATCH_LINKS]:
        span_context = trace.get_current_span(extract_kafka_context(headers)).get_span_context()
        if span_context.is_valid:
            links.append(Link(span_context))
    attributes = _kafka_attributes(topic, "process", partition, None, consumer_group)
    attributes["messaging.batch.message_count"] = len(headers_per_message)
    with get_tracer().start_as_current_span(
        f"process {topic}", kind=SpanKind.CONSUMER, attributes=attributes, links=links
    ) as span:
        yield span


# --- gRPC metadata -------------------------------------------------------------------------


def inject_grpc_metadata(
    metadata: Iterable[tuple[str, str | bytes]] | None = None, *, context: Context | None = None
) -> GrpcMetadata:
    """`metadata` plus the current (or given) trace context, as gRPC metadata tuples."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    # gRPC requires lowercase keys; W3C field names already are.
    keep = [(k, v) for k, v in metadata or () if k.lower() not in carrier]
    return keep + list(carrier.items())


def extract_grpc_context(metadata: Iterable[tuple[str, str | bytes]] | None) -> Context:
    """The trace context carried by incoming gRPC metadata."""
    carrier: dict[str, str] = {}
    for key, value in metadata or ():
        if key.endswith("-bin"):
            continue  # binary metadata never carries W3C text fields
        carrier[key.lower()] = (
            value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        )
    return propagate.extract(carrier)
