"""Automatic completion end to end: the orchestrator, an executor and the connector gateway hosted
in one process (standalone mode, real Postgres), an http:MakeRequest against a local fake server
that fails its first calls, and a Break with automatic completion. The orchestrator's clock is
a fake the test moves, so "one minute later" costs no real minute."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from orchestrator_support import Stack, Tenant, standalone_settings
from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as pb
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_runtime.host import start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

pytestmark = pytest.mark.integration

Status = run_pb2.IncompleteExecutionStatus
StartStack = Callable[[], Awaitable[Stack]]


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Flaky:
    """Answers 503 to its first `failures` calls, then 200."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            return FakeResponse.of_json({"error": "try later"}, status=503)
        return FakeResponse.of_json({"ok": True})


def _document(url: str, count: int) -> str:
    return f"""\
name: Flaky call
settings: {{store_incomplete: true}}
flow:
  - {{id: 1, module: gateway:CustomWebHook}}
  - id: 2
    module: http:MakeRequest
    mapper: {{url: "{url}", method: get, handleErrors: true}}
    onerror:
      - {{id: 3, module: builtin:Break, mapper: {{retry: true, count: {count}, interval: 1}}}}
"""


@pytest.fixture
def fake() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def start_stack(
    database_dsn: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartStack]:
    monkeypatch.setenv("SCENARIST_SECRETS_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("SCENARIST_CONNECTOR_ALLOW", "127.0.0.1/32")
    monkeypatch.setenv("SCENARIST_RATE_LIMIT_BACKEND", "memory")
    monkeypatch.setenv("SCENARIST_INCOMPLETE_RETRY_POLL_SECONDS", "0.05")
    settings = standalone_settings(database_dsn)
    lifecycle = Lifecycle(settings)
    hosted = await start_host(
        ["orchestrator", "executor", "connector_gateway"],
        settings,
        lifecycle,
        shared={"completion_clock": clock},
    )
    try:
        identity = PgIdentityStore(hosted.host.pool)
        org = await identity.create_organization(f"acme-{uuid.uuid4().hex[:6]}")
        tokens = {role: (await identity.create_token(org.id, role, role.value))[1] for role in Role}
        tenant = Tenant(org.id, tokens)
        async with Stack.connect(hosted, tenant, tenant) as stack:

            async def start() -> Stack:
                return stack

            yield start
    finally:
        await lifecycle.shutdown()


def _about(moment: datetime, expected: datetime) -> bool:
    """Equal but for rounding: created_at comes from the engine's float seconds."""
    return abs(moment - expected) < timedelta(milliseconds=1)


async def _listed(stack: Stack, scenario_id: str) -> list[Any]:
    response = await stack.runs.ListIncompleteExecutions(
        pb.ListIncompleteExecutionsRequest(scenario_id=scenario_id, include_closed=True),
        metadata=stack.acme.auth(),
    )
    return sorted(response.incomplete_executions, key=lambda item: item.retry_attempt)


async def _until(
    stack: Stack, scenario_id: str, done: Callable[[list[Any]], bool], polls: int = 400
) -> list[Any]:
    """Poll the listing (bounded) until `done` holds for it."""
    for _ in range(polls):
        items = await _listed(stack, scenario_id)
        if done(items):
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached; incomplete executions: {items}")


def _scheduled(attempt: int) -> Callable[[list[Any]], bool]:
    """The bundle parked after `attempt` automatic retries is listed and scheduled (a schedule
    sets retry_count; until then an item lists attempt 0)."""
    return lambda items: len(items) == attempt + 1 and all(i.retry_count > 0 for i in items)


async def _park(stack: Stack, fake: FakeHttpServer, flaky: Flaky, count: int) -> str:
    fake.route("GET", "/flaky", flaky)
    scenario = await stack.create_scenario(stack.acme, _document(f"{fake.url}/flaky", count))
    run = await stack.start_run(stack.acme, scenario.id)
    finished = await stack.finished_run(stack.acme, run.id)
    assert finished.status == run_pb2.RunStatus.RUN_STATUS_WARNING
    return str(scenario.id)


async def test_retries_happen_by_themselves_until_one_succeeds(
    start_stack: StartStack, fake: FakeHttpServer, clock: FakeClock
) -> None:
    stack = await start_stack()
    flaky = Flaky(failures=2)
    scenario_id = await _park(stack, fake, flaky, count=3)
    [first] = await _until(stack, scenario_id, _scheduled(0))
    parked_at = first.created_at.ToDatetime(UTC)
    assert first.status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert (first.retry_attempt, first.retry_count) == (0, 3)
    assert _about(first.next_retry_at.ToDatetime(UTC), parked_at + timedelta(minutes=1))
    assert flaky.calls == 1  # not due before the clock moves

    clock.now = first.next_retry_at.ToDatetime(UTC)
    items = await _until(stack, scenario_id, _scheduled(1))
    second = items[-1]
    assert items[0].status == Status.INCOMPLETE_EXECUTION_STATUS_RETRIED
    assert second.run_id == items[0].retry_run_id and second.retry_attempt == 1
    # Attempt 2 is due two intervals after the first parking.
    assert _about(second.next_retry_at.ToDatetime(UTC), parked_at + timedelta(minutes=2))

    clock.now = second.next_retry_at.ToDatetime(UTC)
    items = await _until(
        stack,
        scenario_id,
        lambda found: found[-1].status == Status.INCOMPLETE_EXECUTION_STATUS_COMPLETED,
    )
    assert [i.retry_attempt for i in items] == [0, 1]
    final = await stack.finished_run(stack.acme, items[-1].retry_run_id)
    assert final.status == run_pb2.RunStatus.RUN_STATUS_SUCCESS
    assert flaky.calls == 3


async def test_a_bundle_whose_attempts_are_used_up_stays_incomplete(
    start_stack: StartStack, fake: FakeHttpServer, clock: FakeClock
) -> None:
    stack = await start_stack()
    flaky = Flaky(failures=1_000)
    scenario_id = await _park(stack, fake, flaky, count=1)
    [first] = await _until(stack, scenario_id, _scheduled(0))
    clock.now = first.next_retry_at.ToDatetime(UTC)
    items = await _until(stack, scenario_id, _scheduled(1))
    last = items[-1]
    assert last.retry_attempt == 1 and last.retry_count == 1
    assert last.status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert not last.HasField("next_retry_at")

    clock.now += timedelta(days=31)
    completion = stack.hosted.host.shared["automatic_completion"]
    ticks = completion.ticks
    for _ in range(400):
        if completion.ticks >= ticks + 3:
            break
        await asyncio.sleep(0.05)
    assert completion.ticks >= ticks + 3
    items = await _listed(stack, scenario_id)
    assert len(items) == 2 and items[-1].status == Status.INCOMPLETE_EXECUTION_STATUS_OPEN
    assert flaky.calls == 2
