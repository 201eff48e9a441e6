"""Record spans only when something exports them.

Without an exporter, a recorded span is built, stamped with attributes and dropped: the
webhook path's profile showed that work at several percent of the process. The sampler below
drops every span (a non-recording span, which still has a valid trace id, so logs keep their
trace ids and W3C context still travels through Kafka headers and gRPC metadata) until an
exporter is installed, then samples like OTel's default (parent-based, always on).
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes


class ExportingSampler(Sampler):
    def __init__(self) -> None:
        self.exporting = False
        self._default = ParentBased(ALWAYS_ON)

    def should_sample(  # noqa: PLR0917 - the signature is OTel's Sampler interface
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if not self.exporting:
            return SamplingResult(Decision.DROP)
        return self._default.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        state = "exporting" if self.exporting else "nothing exported: drop"
        return f"ExportingSampler({state}; then parent-based, always on)"
