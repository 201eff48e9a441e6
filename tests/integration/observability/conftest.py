from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.tracing import configure_tracing

# OTel allows one global TracerProvider per process; configure_tracing adds this exporter to it
# if another test module configured it first.
_EXPORTER = InMemorySpanExporter()
configure_tracing("scenarist-tests", exporter=_EXPORTER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()
