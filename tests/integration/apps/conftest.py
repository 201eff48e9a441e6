"""Every app module run through ConnectorRuntime.execute against its fake on 127.0.0.1.

The fakes live in tests/fixtures/fakes; loopback is opened by the runtime's allow list exactly
as an operator would open an on-prem system, so the SSRF guard stays on.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from scenarist_connector_sdk import (
    ConnectorRuntime,
    HttpLimits,
    NetPolicy,
    Registry,
    RuntimeSettings,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))  # the fakes package


@pytest.fixture
async def runtime() -> AsyncIterator[ConnectorRuntime]:
    settings = RuntimeSettings(allow=NetPolicy.parse("127.0.0.1/32"), limits=HttpLimits(timeout=10))
    rt = ConnectorRuntime(Registry.from_entry_points(), settings)
    assert not rt.registry.failures
    yield rt
    await rt.aclose()
