"""One run is one trace: the orchestrator keeps each run's trace context with the run.

Every consumed record gets a ``process <topic>`` span, child of its producer's span (the
trigger's RunRequested, an executor's TaskResult). The messages a batch writes for a run (tasks,
step logs, run events) carry the context of the latest such span of that run in their outbox
headers, so the relay's publish spans, the executors and the log service continue the same
trace. The context is also stored in the run's state, so a run picked up after a rebalance
(loaded from Postgres) or a run whose records carry none keeps its trace.

Records of the orchestrator's input topics are keyed by run id (one partition owns a run), which
is how a record's span is matched to its run before the batch is decoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span
from scenarist_bus.port import Record
from scenarist_observability.tracing import (
    carrier_of,
    trace_carrier,
)
from scenarist_storage.models import OutboxMessage

#: Key of the trace context inside the stored run state (not part of the engine's RunState).
TRACE_KEY = "trace_context"

Carrier = dict[str, str]


def batch_traces(records: Sequence[Record], spans: Sequence[Span]) -> dict[str, Carrier]:
    """Run id -> the context of the batch's latest record span of that run."""
    out: dict[str, Carrier] = {}
    for record, span in zip(records, spans, strict=True):
        if not record.key:
            continue
        if span.get_span_context().is_valid:
            carrier = carrier_of(trace.set_span_in_context(span))
        else:  # no span recorded: the run goes on in the context its record came with
            carrier = trace_carrier(record.headers)
        if carrier:
            out[record.key.decode("utf-8", "replace")] = carrier
    return out


def with_trace(state: dict[str, Any], carrier: Mapping[str, str]) -> dict[str, Any]:
    """The state to store: the engine's state plus the run's trace context."""
    if carrier:
        state[TRACE_KEY] = dict(carrier)
    return state


def split_trace(stored: Mapping[str, Any]) -> tuple[dict[str, Any], Carrier]:
    """(the engine's state, the run's trace context) from a stored state."""
    state = dict(stored)
    found = state.pop(TRACE_KEY, None)
    if not isinstance(found, dict):
        return state, {}
    return state, {str(k): str(v) for k, v in found.items()}


def traced(messages: Sequence[OutboxMessage], carrier: Mapping[str, str]) -> list[OutboxMessage]:
    """`messages` with the run's trace context in their headers (kept in the outbox row)."""
    if not carrier:
        return list(messages)
    # The carrier holds W3C header fields already (written by a propagator, or taken from a
    # record's headers): they are copied, not parsed and written again for every message.
    fields = [(name, value.encode("utf-8")) for name, value in carrier.items()]
    return [
        replace(m, headers=(*(h for h in m.headers if h[0].lower() not in carrier), *fields))
        for m in messages
    ]
