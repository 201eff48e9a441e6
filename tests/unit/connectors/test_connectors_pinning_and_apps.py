"""DNS rebinding can't swap the address; CSV and XML modules through the fake context."""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import pytest
from scenarist_connector_sdk import BlockedTargetError, InvalidInputError, NetPolicy
from scenarist_connector_sdk.net import AddressGuard
from scenarist_connector_sdk.testing import fake_context
from scenarist_connector_sdk.transport import GuardedNetworkBackend, SocketOption
from scenarist_connectors.csv_app import create_csv, parse_csv
from scenarist_connectors.xml_app import parse_xml


class RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        raise httpcore.ConnectError("recorded, not connected")


def rebinding_resolver(answers: list[list[str]]):  # type: ignore[no-untyped-def]
    calls = iter(answers)

    async def resolve(host: str, port: int) -> list[str]:
        return next(calls)

    return resolve


async def test_the_socket_goes_to_the_address_that_was_checked() -> None:
    resolver = rebinding_resolver([["93.184.216.34"], ["127.0.0.1"]])
    recording = RecordingBackend()
    backend = GuardedNetworkBackend(AddressGuard(NetPolicy(), resolver), recording)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("rebind.example.com", 80)
    assert recording.connected == ["93.184.216.34"]
    with pytest.raises(BlockedTargetError, match="loopback"):
        await backend.connect_tcp("rebind.example.com", 80)
    assert recording.connected == ["93.184.216.34"]


async def test_unix_sockets_are_refused() -> None:
    backend = GuardedNetworkBackend(AddressGuard(), RecordingBackend())
    with pytest.raises(BlockedTargetError):
        await backend.connect_unix_socket("/var/run/docker.sock")


async def test_parse_and_create_csv() -> None:
    ctx = fake_context()
    rows = [
        row
        async for row in parse_csv(
            ctx, {"csv": "a;b\n1;2\n3", "containsHeaders": True, "delimiter": "semicolon"}
        )
    ]
    assert rows == [{"a": "1", "b": "2"}, {"a": "3", "b": ""}]
    rows = [row async for row in parse_csv(ctx, {"csv": "x,y", "containsHeaders": False})]
    assert rows == [{"col1": "x", "col2": "y"}]
    [out] = await create_csv(
        ctx, {"rows": [{"a": 1, "b": "x,y"}, {"a": 2}], "includeHeaders": True}
    )
    assert out == {"text": 'a,b\n1,"x,y"\n2,\n'}
    await ctx.http.aclose()


async def test_parse_xml_and_refuse_entity_bombs() -> None:
    ctx = fake_context()
    [out] = await parse_xml(ctx, {"xml": '<r><i id="1">a</i><i>b</i><n/></r>'})
    assert out == {
        "data": {"r": {"i": [{"_attributes": {"id": "1"}, "_value": "a"}, "b"], "n": ""}}
    }
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>'
    with pytest.raises(InvalidInputError, match="unsafe"):
        await parse_xml(ctx, {"xml": bomb})
    await ctx.http.aclose()
