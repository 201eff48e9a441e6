from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from scenarist_observability.tracing import configure_tracing

# One exporter per process: OTel allows a single global TracerProvider, so tests share it and
# clear the captured spans between tests.
_EXPORTER = InMemorySpanExporter()
configure_tracing("scenarist-tests", exporter=_EXPORTER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()
