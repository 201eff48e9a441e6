"""ModuleRunner: connections, typed failures, redaction and rate limits, with no network.

The connector below is a fake app whose handlers never open a socket, so these are unit tests.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import orjson
import pytest
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist_connector_gateway.execution import CallRefusedError, ModuleRunner
from scenarist_connector_gateway.limits import RateLimits
from scenarist_connector_gateway.secrets import Keyring, connection_aad
from scenarist_connector_gateway.settings import GatewaySettings, RateLimitSetting
from scenarist_connector_sdk import (
    ActionContext,
    AppSpec,
    Connector,
    ConnectorRuntime,
    RateLimitError,
    Registry,
)
from scenarist_connector_sdk.auth import API_KEY
from scenarist_limiter import Bucket, Decision, Limit, MemoryRateLimiter
from scenarist_storage.gateway_models import NewConnection
from scenarist_storage.memory.gateway import MemoryConnectionStore

KEY = "very-secret-key-123"  # a test credential

fake = Connector(
    AppSpec(
        "fake",
        "1.0.0",
        connection_types=(API_KEY,),
        metadata={"rate_limit_per_second": "0.01", "rate_limit_burst": "3"},
    )
)


@fake.action("Echo")
async def echo(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"inputs": inputs, "key": ctx.secrets.get("api_key", ""), "run": ctx.run.run_id}]


@fake.action("Slow")
async def slow(ctx: ActionContext, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    raise RateLimitError("429 from fake", retry_after=30)


class Harness:
    def __init__(self, *, limiter: Any = None, limits: RateLimits | None = None) -> None:
        self.org = uuid.uuid4()
        self.store = MemoryConnectionStore()
        self.keyring = Keyring.generate()
        self.limiter = limiter or MemoryRateLimiter()
        self.runtime = ConnectorRuntime(Registry([fake]))
        self.runner = ModuleRunner(
            self.runtime,
            self.store,
            self.keyring,
            self.limiter,
            limits or RateLimits(),
            max_wait=0,
        )

    async def connection(self, app: str = "fake", org: uuid.UUID | None = None) -> str:
        owner, cid = org or self.org, uuid.uuid4()
        sealed = self.keyring.seal(orjson.dumps({"api_key": KEY}), connection_aad(owner, cid))
        await self.store.create_connection(
            NewConnection(owner, cid, app, "api_key", "c", {}, ("api_key",), sealed)
        )
        return str(cid)

    def request(self, module: str = "Echo", connection: str = "", **inputs: Any) -> Any:
        run = pb.RunInfo(organization_id=str(self.org), run_id="r1", idempotency_key="k")
        return pb.ExecuteModuleRequest(
            app="fake",
            module=module,
            inputs=orjson.dumps(inputs).decode(),
            connection_id=connection,
            run=run,
        )


@pytest.fixture
async def harness() -> Any:
    built = Harness()
    yield built
    await built.runtime.aclose()


async def test_bundles_come_back_with_secrets_masked(harness: Harness) -> None:
    connection = await harness.connection()
    response = await harness.runner.execute(harness.request(connection=connection, a=1))
    assert response.WhichOneof("outcome") == "bundles"
    assert orjson.loads(response.bundles) == [{"inputs": {"a": 1}, "key": "***", "run": "r1"}]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"module": "Nope"}, grpc.StatusCode.NOT_FOUND),
        ({"app": "util", "module": "SetVariable2"}, grpc.StatusCode.FAILED_PRECONDITION),
        ({"module": ""}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"inputs": "[1]"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"inputs": "{"}, grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_malformed_calls_are_refused(
    harness: Harness, change: dict[str, str], code: grpc.StatusCode
) -> None:
    request = harness.request()
    for name, value in change.items():
        setattr(request, name, value)
    with pytest.raises(CallRefusedError) as refused:
        await harness.runner.execute(request)
    assert refused.value.code == code


async def test_an_organization_is_required(harness: Harness) -> None:
    request = harness.request()
    request.run.organization_id = ""
    with pytest.raises(CallRefusedError, match="organization_id"):
        await harness.runner.execute(request)


@pytest.mark.parametrize("which", ["other org", "other app", "missing", "not an id"])
async def test_foreign_or_wrong_connections_are_configuration_errors(
    harness: Harness, which: str
) -> None:
    connection = {
        "other org": await harness.connection(org=uuid.uuid4()),
        "other app": await harness.connection(app="slack"),
        "missing": str(uuid.uuid4()),
        "not an id": "1234",
    }[which]
    response = await harness.runner.execute(harness.request(connection=connection))
    assert response.error.type == "InvalidConfigurationError"
    assert KEY not in str(response)


async def test_a_rate_limited_call_blocks_its_connection(harness: Harness) -> None:
    connection = await harness.connection()
    first = await harness.runner.execute(harness.request("Slow", connection))
    assert first.error.type == "RateLimitError"
    assert first.error.retry_after.ToNanoseconds() == 30 * 10**9
    second = await harness.runner.execute(harness.request("Echo", connection))
    assert second.error.type == "RateLimitError"
    assert 25 < second.error.retry_after.ToNanoseconds() / 1e9 <= 30
    other = await harness.runner.execute(harness.request("Echo", await harness.connection()))
    assert other.WhichOneof("outcome") == "bundles"


async def test_app_limits_come_from_the_spec_and_settings_override_them() -> None:
    spec = RateLimits.from_settings(GatewaySettings(), Registry([fake]))
    assert spec.apps["fake"] == Limit(0.01, 3)
    assert spec.connection == Limit(10, 20)
    overridden = RateLimits.from_settings(
        GatewaySettings(
            app_rate_limits={"fake": RateLimitSetting(rate=5, burst=5)},
            connection_rate_limit=None,
        ),
        Registry([fake]),
    )
    assert overridden.apps["fake"] == Limit(5, 5) and overridden.connection is None
    assert [b.key for b in overridden.buckets("fake", "c1")] == ["conn:c1", "app:fake"]
    assert overridden.buckets("other", None) == []


async def test_the_app_bucket_refuses_beyond_its_burst() -> None:
    harness = Harness(limits=RateLimits(apps={"fake": Limit(0.01, 2)}))
    outcomes = [
        (await harness.runner.execute(harness.request())).WhichOneof("outcome") for _ in range(3)
    ]
    assert outcomes == ["bundles", "bundles", "error"]
    await harness.runtime.aclose()


class BrokenLimiter:
    async def try_take(self, buckets: list[Bucket], cost: float = 1.0) -> Decision:
        raise ConnectionRefusedError("redis is down")

    async def block(self, key: str, seconds: float) -> None:
        raise ConnectionRefusedError("redis is down")

    async def aclose(self) -> None:
        return None


async def test_a_broken_limiter_does_not_stop_calls() -> None:
    harness = Harness(limiter=BrokenLimiter(), limits=RateLimits(connection=Limit(1, 1)))
    connection = await harness.connection()
    assert (await harness.runner.execute(harness.request(connection=connection))).bundles
    slow_call = await harness.runner.execute(harness.request("Slow", connection))
    assert slow_call.error.type == "RateLimitError"
    await harness.runtime.aclose()
