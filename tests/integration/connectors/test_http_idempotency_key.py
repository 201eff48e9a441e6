"""http:MakeRequest's opt-in ``idempotencyKey``: the task's key as an Idempotency-Key header."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from scenarist_connector_sdk import ConnectorRuntime, NetPolicy, Registry, RuntimeSettings
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_connectors.http import connector as http_app

pytestmark = pytest.mark.integration

RUN = {"run_id": "r1", "module_id": 3, "idempotency_key": "r1/3/t9/1"}


@pytest.fixture
def server() -> Iterator[FakeHttpServer]:
    def ok(request: FakeRequest) -> FakeResponse:
        return FakeResponse.of_json({})

    with FakeHttpServer() as fake:
        fake.route("POST", "/charge", ok)
        yield fake


@pytest.fixture
async def runtime() -> AsyncIterator[ConnectorRuntime]:
    rt = ConnectorRuntime(Registry([http_app]), RuntimeSettings(allow=NetPolicy.parse("127.0.0.1")))
    yield rt
    await rt.aclose()


async def sent_key(rt: ConnectorRuntime, server: FakeHttpServer, **inputs: Any) -> str | None:
    await rt.execute(
        "http:MakeRequest", {"url": f"{server.url}/charge", "method": "post", **inputs}, None, RUN
    )
    return server.requests[-1].headers.get("idempotency-key")


async def test_the_key_is_sent_only_when_asked(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    assert await sent_key(runtime, server) is None  # Make's HTTP module sends none either
    assert await sent_key(runtime, server, idempotencyKey=True) == "r1/3/t9/1"
    assert await sent_key(runtime, server, idempotencyKey=True) == "r1/3/t9/1"  # a redelivery


async def test_a_header_the_author_set_wins(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    mine = [{"name": "Idempotency-Key", "value": "order-42"}]
    assert await sent_key(runtime, server, idempotencyKey=True, headers=mine) == "order-42"
