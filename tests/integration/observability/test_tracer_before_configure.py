"""A tracer taken before configure_tracing records once it ran (get_tracer caches for good).
In a fresh interpreter: the test process configured tracing at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

SCRIPT = """
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.tracing import configure_tracing, get_tracer

early = get_tracer()
with early.start_as_current_span("before"):
    pass
exporter = InMemorySpanExporter()
configure_tracing("t", exporter=exporter)
assert get_tracer() is early
with early.start_as_current_span("after") as span:
    assert span.get_span_context().is_valid
print(",".join(s.name for s in exporter.get_finished_spans()))
"""


def test_a_tracer_taken_before_configuration_follows_the_provider() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "after"
