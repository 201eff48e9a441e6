"""ExecuteModule on the gateway's internal port: only the shared secret opens it, and the
executor's client runs app modules through it with the run's organization's connections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from gateway_stack import Gateway, StartGateway, new_key
from scenarist.connector.v1 import connection_service_pb2 as pb
from scenarist.connector.v1 import connection_service_pb2_grpc as pb_grpc
from scenarist.connector.v1 import connector_service_pb2 as cpb
from scenarist.connector.v1 import connector_service_pb2_grpc as cpb_grpc
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_runtime.gateway import GatewayClient
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

INTERNAL = "internal-" + "x" * 32
API_KEY = "ak-Internal-Port-Secret-99"  # a test credential


@pytest.fixture
def fake() -> Iterator[FakeHttpServer]:
    def echo(request: FakeRequest) -> FakeResponse:
        return FakeResponse.of_json({"key_seen": request.headers.get("x-api-key") == API_KEY})

    with FakeHttpServer() as server:
        server.route("GET", "/echo", echo)
        yield server


@pytest.fixture
async def gateway(start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("SCENARIST_INTERNAL_SECRET", INTERNAL)
    monkeypatch.setenv("SCENARIST_GATEWAY_INTERNAL_PORT", "0")
    monkeypatch.setenv("SCENARIST_CONNECTOR_ALLOW", "127.0.0.1/32")
    return await start_gateway(new_key())


def internal_target(gateway: Gateway) -> str:
    return f"127.0.0.1:{gateway.hosted.host.shared['connector_internal_port']}"


async def connection(gateway: Gateway, md: tuple[tuple[str, str], ...]) -> str:
    created = await pb_grpc.ConnectionServiceStub(gateway.channel).CreateConnection(
        pb.CreateConnectionRequest(
            app="http",
            type=ConnectionType.CONNECTION_TYPE_API_KEY,
            name="echo",
            secrets={"api_key": API_KEY},
        ),
        metadata=md,
    )
    return str(created.connection.id)


def request(url: str, org: str, connection_id: str) -> cpb.ExecuteModuleRequest:
    return cpb.ExecuteModuleRequest(
        app="http",
        module="MakeRequest",
        inputs=json.dumps({"url": url}),
        connection_id=connection_id,
        run=cpb.RunInfo(organization_id=org, run_id="r1", module_id=2, attempt=1),
    )


async def test_only_the_shared_secret_opens_the_internal_port(gateway: Gateway) -> None:
    owner = await gateway.token(await gateway.org(), Role.OWNER)
    async with grpc.aio.insecure_channel(internal_target(gateway)) as channel:
        stub = cpb_grpc.ConnectorServiceStub(channel)
        call = cpb.ExecuteModuleRequest(app="http", module="MakeRequest")
        for metadata in (owner, (("authorization", "Bearer wrong"),), ()):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ExecuteModule(call, metadata=metadata)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListApps(
                cpb.ListAppsRequest(), metadata=(("authorization", f"Bearer {INTERNAL}"),)
            )
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_the_executor_client_runs_modules_with_the_runs_connections(
    gateway: Gateway, fake: FakeHttpServer
) -> None:
    acme, globex = await gateway.org("Acme"), await gateway.org("Globex")
    acme_connection = await connection(gateway, await gateway.token(acme, Role.EDITOR))
    client = GatewayClient(internal_target(gateway), INTERNAL)
    try:
        ok = await client(request(f"{fake.url}/echo", str(acme), acme_connection), 10.0)
        [bundle] = json.loads(ok.bundles)
        assert bundle["statusCode"] == 200 and bundle["data"] == {"key_seen": True}
        # Globex's run cannot use Acme's connection: the same answer as a missing one.
        foreign = await client(request(f"{fake.url}/echo", str(globex), acme_connection), 10.0)
        assert foreign.error.type == "InvalidConfigurationError"
        assert "not found" in foreign.error.message
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client(request(f"{fake.url}/echo", "not-a-uuid", ""), 10.0)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await client.close()
    assert len(fake.requests) == 1


class CountingGateway(cpb_grpc.ConnectorServiceServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def ExecuteModule(
        self, request: cpb.ExecuteModuleRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> cpb.ExecuteModuleResponse:
        self.calls += 1
        return cpb.ExecuteModuleResponse(bundles="[]")


async def test_the_client_spreads_calls_over_every_gateway_it_is_given() -> None:
    # services.sh names every gateway's internal port (ipv4:a,b); the chart a headless Service
    # that resolves to every pod. Either way the calls must not all go to the first address.
    gateways = [CountingGateway(), CountingGateway()]
    servers, ports = [], []
    for gateway in gateways:
        server = grpc.aio.server()
        cpb_grpc.add_ConnectorServiceServicer_to_server(gateway, server)
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        servers.append(server)
    client = GatewayClient("ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports), INTERNAL)
    try:
        for _ in range(50):  # the first calls go wherever a connection is ready first
            await client(cpb.ExecuteModuleRequest(app="http", module="MakeRequest"), 10.0)
            if all(gateway.calls >= 5 for gateway in gateways):
                break
        assert all(gateway.calls >= 5 for gateway in gateways), [g.calls for g in gateways]
    finally:
        await client.close()
        for server in servers:
            await server.stop(None)
