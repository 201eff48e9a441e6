"""App modules in scenarios, end to end: orchestrator -> executor -> connector gateway -> a local
fake API, with connections from ConnectionService, rate limits in Redis and the SSRF guard."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_stack import StartStack
from scenarist.run.v1 import run_pb2
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_observability.metrics import METRICS

pytestmark = pytest.mark.integration

SECRET = "sk-live-Very-Secret-7781"  # a test credential that must never leak
SUCCESS = run_pb2.RunStatus.RUN_STATUS_SUCCESS
ERROR = run_pb2.RunStatus.RUN_STATUS_ERROR


def user(request: FakeRequest) -> FakeResponse:
    [number] = request.query["id"]
    # Echoing the request headers back is what httpbin-like APIs do; the key must still not
    # reach the run log.
    return FakeResponse.of_json({"name": f"user-{number}", "seen": request.headers})


def fetch_users(url: str, connection: str = "", **http: Any) -> dict[str, Any]:
    """Webhook trigger -> iterator over `ids` -> http:MakeRequest -> array aggregator."""
    mapper = {"url": url, "method": "get", "qs": [{"name": "id", "value": "{{2.value}}"}]}
    request: dict[str, Any] = {"id": 3, "module": "http:MakeRequest", **http}
    request["mapper"] = {**mapper, **http.get("mapper", {})}
    if connection:
        request["parameters"] = {"connection": connection, **request.get("parameters", {})}
    return {
        "name": "fetch users",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook"},
            {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.ids}}"}},
            request,
            {
                "id": 4,
                "module": "builtin:BasicAggregator",
                "parameters": {"feeder": 2},
                "mapper": {"name": "{{3.data.name}}", "status": "{{3.statusCode}}"},
            },
        ],
    }


@pytest.fixture
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def _rendered(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)


async def test_iterator_http_aggregator_with_an_api_key_connection(
    start_stack: StartStack, fake: FakeHttpServer, every_log_line: pytest.LogCaptureFixture
) -> None:
    fake.route("GET", "/users", user)
    stack = await start_stack()
    connection = await stack.api_key_connection(SECRET)
    mapper = {"handleErrors": True, "idempotencyKey": True}
    document = fetch_users(f"{fake.url}/users", connection, mapper=mapper)

    run = await stack.run(document, {"ids": [1, 2, 3]})

    assert run.status == SUCCESS, run.error
    [aggregated] = await stack.steps(run.id, 4)
    assert json.loads(aggregated.output) == [
        {"array": [{"name": f"user-{n}", "status": 200} for n in (1, 2, 3)]}
    ]
    assert sorted(r.query["id"][0] for r in fake.requests) == ["1", "2", "3"]
    assert {r.headers.get("x-api-key") for r in fake.requests} == {SECRET}
    # One task's key (run/module/task/attempt): a redelivered task repeats it, others do not.
    keys = {r.headers["idempotency-key"] for r in fake.requests}
    assert len(keys) == 3 and all(k.startswith(f"{run.id}/3/") for k in keys)
    calls = await stack.steps(run.id, 3, count=3)
    assert all(json.loads(step.output)[0]["data"]["seen"]["x-api-key"] == "***" for step in calls)
    assert SECRET not in await stack.run_log_text(run.id)
    assert "services started" in _rendered(every_log_line)  # the capture does see the services
    assert SECRET not in _rendered(every_log_line)


async def test_a_429_with_retry_after_is_retried_by_the_engine(
    start_stack: StartStack, fake: FakeHttpServer
) -> None:
    answers = iter([FakeResponse(429, {"Retry-After": "1"}, b"slow down")])

    def limited(request: FakeRequest) -> FakeResponse:
        return next(answers, None) or user(request)

    fake.route("GET", "/users", limited)
    stack = await start_stack()
    retry = {"max_attempts": 3, "initial_interval_seconds": 0, "jitter": 0}
    document = fetch_users(f"{fake.url}/users", mapper={"handleErrors": True}, retry=retry)

    run = await stack.run(document, {"ids": [7]})

    assert run.status == SUCCESS, run.error
    assert len(fake.requests) == 2
    failed, succeeded = await stack.steps(run.id, 3, count=2)
    assert failed.error.type == "RateLimitError" and failed.attempt == 1
    assert succeeded.attempt == 2 and not succeeded.error.type


@pytest.mark.parametrize(
    "target", ["http://127.0.0.2:{port}/users", "http://169.254.169.254/latest/meta-data/"]
)
async def test_internal_targets_fail_with_a_data_error_without_connecting(
    start_stack: StartStack, target: str
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(8)
    listener.setblocking(False)
    stack = await start_stack()
    url = target.format(port=listener.getsockname()[1])
    try:
        run = await stack.run(fetch_users(url), {"ids": [1]})
        assert run.status == ERROR
        assert run.error.type == "DataError", run.error
        assert "refused" in run.error.message
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever connected, not even a handshake
    finally:
        listener.close()


async def test_the_connection_rate_limit_refuses_beyond_its_burst(
    start_stack: StartStack, fake: FakeHttpServer
) -> None:
    fake.route("GET", "/users", user)
    stack = await start_stack(
        SCENARIST_CONNECTION_RATE_LIMIT={"rate": 0.01, "burst": 2},
        SCENARIST_RATE_LIMIT_MAX_WAIT_SECONDS="0.5",
    )
    connection = await stack.api_key_connection(SECRET)

    run = await stack.run(fetch_users(f"{fake.url}/users", connection), {"ids": [1, 2, 3, 4]})

    assert run.status == ERROR
    assert run.error.type == "RateLimitError", run.error
    assert len(fake.requests) == 2  # the burst; the third call never left the gateway


async def test_the_connection_rate_limit_delays_within_its_bound(
    start_stack: StartStack, fake: FakeHttpServer
) -> None:
    fake.route("GET", "/users", user)
    stack = await start_stack(
        SCENARIST_CONNECTION_RATE_LIMIT={"rate": 4, "burst": 1},
        SCENARIST_RATE_LIMIT_MAX_WAIT_SECONDS="5",
    )
    connection = await stack.api_key_connection(SECRET)
    waits = METRICS.rate_limit_waits.labels("http")
    before = waits._value.get()
    document = fetch_users(f"{fake.url}/users", connection)
    document["settings"] = {"parallel_bundles": 3}  # three calls at once for a 1-token bucket

    run = await stack.run(document, {"ids": [1, 2, 3]})

    assert run.status == SUCCESS, run.error
    assert len(fake.requests) == 3
    assert waits._value.get() >= before + 2
