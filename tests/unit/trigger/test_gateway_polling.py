"""GatewayPollSource against a stand-in for ExecuteModule (the gateway's in-process callable),
and what the scheduler does with its failures: the request carries the schedule's inputs, cursor,
limit, connection and organization; a rate limit moves the next poll past retry_after; refused
credentials and configuration errors pause the schedule with the reason shown."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import orjson
import pytest
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_bus import envelope
from scenarist_bus.port import OutgoingMessage, Record, RecordMetadata
from scenarist_runtime.gateway import NO_GATEWAY, Execute
from scenarist_storage.memory.schedules import MemoryScheduleStore
from scenarist_storage.schedule_models import NewSchedule, ScheduleDefinition
from scenarist_trigger.gateway_polling import GatewayPollSource, item_id
from scenarist_trigger.polling import PollError, PollTarget
from scenarist_trigger.scheduler import Scheduler, calendar_for

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
TARGET = PollTarget(
    app="github",
    module="WatchIssues",
    inputs={"owner": "o", "repo": "r"},
    connection_id="c0ffee00-0000-4000-8000-000000000001",
    max_items=10,
    org_id=str(ORG),
    scenario_id="5ce0a210-0000-4000-8000-000000000001",
    schedule_id="5c4ed000-0000-4000-8000-000000000001",
)


def bundles(items: Sequence[dict[str, Any]], cursor: str) -> pb.ExecuteModuleResponse:
    return pb.ExecuteModuleResponse(
        bundles=orjson.dumps([{"bundles": list(items), "cursor": cursor}]).decode()
    )


def failure(kind: str, message: str, retry_after: float | None = None) -> pb.ExecuteModuleResponse:
    error = pb.ModuleError(type=kind, message=message)
    if retry_after is not None:
        error.retry_after.FromNanoseconds(int(retry_after * 1e9))
    return pb.ExecuteModuleResponse(error=error)


def refused(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    empty = grpc.aio.Metadata()
    return grpc.aio.AioRpcError(code, empty, empty, details, None)


@dataclass
class FakeGateway:
    """Answers each ExecuteModule with the next queued outcome; keeps the requests."""

    outcomes: list[pb.ExecuteModuleResponse | grpc.aio.AioRpcError] = field(default_factory=list)
    requests: list[pb.ExecuteModuleRequest] = field(default_factory=list)

    async def __call__(
        self, request: pb.ExecuteModuleRequest, timeout: float | None = None
    ) -> pb.ExecuteModuleResponse:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, grpc.aio.AioRpcError):
            raise outcome
        return outcome

    def lookup(self) -> Execute | None:
        return self


async def test_a_poll_sends_inputs_cursor_limit_connection_and_organization() -> None:
    gateway = FakeGateway([bundles([{"id": 1}, {"id": 2}], "c2")])
    result = await GatewayPollSource(gateway.lookup).poll(TARGET, "c1")
    [request] = gateway.requests
    assert (request.app, request.module) == ("github", "WatchIssues")
    assert orjson.loads(request.inputs) == {"owner": "o", "repo": "r", "cursor": "c1", "limit": 10}
    assert request.connection_id == TARGET.connection_id
    assert request.run.organization_id == str(ORG)
    assert request.run.scenario_id == TARGET.scenario_id
    assert [i.bundle for i in result.items] == [{"id": 1}, {"id": 2}]
    assert [i.id for i in result.items] == [item_id({"id": 1}), item_id({"id": 2})]
    assert result.cursor == "c2"


async def test_the_first_poll_sends_an_empty_cursor_and_an_empty_answer_keeps_the_stored() -> None:
    gateway = FakeGateway([bundles([], "")])
    result = await GatewayPollSource(gateway.lookup).poll(TARGET, None)
    assert orjson.loads(gateway.requests[0].inputs)["cursor"] == ""
    assert result.items == [] and result.cursor is None


def test_item_ids_follow_the_content_not_the_id_field() -> None:
    assert item_id({"a": 1, "b": 2}) == item_id({"b": 2, "a": 1})
    assert item_id({"id": 7, "updated_at": "t1"}) != item_id({"id": 7, "updated_at": "t2"})


@pytest.mark.parametrize(
    ("outcome", "pause", "retry_after"),
    [
        (failure("RateLimitError", "slow down", 42.0), False, 42.0),
        (failure("RateLimitError", "slow down"), False, None),
        (failure("AuthError", "Bad credentials"), True, None),
        (failure("InvalidConfigurationError", "connection x not found"), True, None),
        (failure("ConnectionError", "503"), False, None),
        (refused(grpc.StatusCode.NOT_FOUND, "unknown module"), True, None),
        (refused(grpc.StatusCode.UNAVAILABLE, "gateway down"), False, None),
        (pb.ExecuteModuleResponse(bundles='[{"id": 1}]'), True, None),  # an action
    ],
)
async def test_failures_keep_their_meaning(
    outcome: pb.ExecuteModuleResponse | grpc.aio.AioRpcError,
    pause: bool,
    retry_after: float | None,
) -> None:
    gateway = FakeGateway([outcome])
    with pytest.raises(PollError) as caught:
        await GatewayPollSource(gateway.lookup).poll(TARGET, "c")
    assert (caught.value.pause, caught.value.retry_after) == (pause, retry_after)
    assert str(caught.value).startswith("github:WatchIssues")


async def test_malformed_bundles_are_a_poll_error() -> None:
    gateway = FakeGateway([pb.ExecuteModuleResponse(bundles="not json")])
    with pytest.raises(PollError, match="malformed bundles") as caught:
        await GatewayPollSource(gateway.lookup).poll(TARGET, "c")
    assert not caught.value.pause


async def test_no_gateway_is_a_clear_error() -> None:
    with pytest.raises(PollError, match="no connector gateway"):
        await GatewayPollSource(lambda: None).poll(TARGET, None)
    assert "SCENARIST_INTERNAL_SECRET" in NO_GATEWAY


# ----- the scheduler ------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingProducer:
    sent: list[RunRequested] = field(default_factory=list)

    async def send(self, msg: OutgoingMessage) -> RecordMetadata:
        record = Record(msg.topic, 0, len(self.sent), msg.key, msg.value, msg.headers, 0)
        self.sent.append(envelope.payload_as(envelope.unwrap(record), RunRequested))
        return RecordMetadata(msg.topic, 0, len(self.sent), 0)

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        return [await self.send(m) for m in msgs]


@dataclass
class World:
    clock: Clock
    store: MemoryScheduleStore
    producer: RecordingProducer
    gateway: FakeGateway

    def scheduler(self) -> Scheduler:
        source = GatewayPollSource(self.gateway.lookup)
        return Scheduler(self.store, self.producer, clock=self.clock, default_source=source)

    async def polling_schedule(self) -> uuid.UUID:
        timing = {"kind": "interval", "interval_minutes": 1, "origin": START.isoformat()}
        poll = {"app": "github", "module": "WatchIssues", "inputs": {"owner": "o", "repo": "r"}}
        d = ScheduleDefinition(name="watch", timing=timing, poll=poll)
        due = calendar_for(d, START).next_due(START)
        new = NewSchedule(uuid.uuid4(), ORG, uuid.uuid4(), d, due)
        return (await self.store.create(new)).id


@pytest.fixture
def world() -> World:
    clock = Clock()
    return World(clock, MemoryScheduleStore(clock=clock), RecordingProducer(), FakeGateway())


async def test_new_items_fire_one_run_and_the_cursor_moves(world: World) -> None:
    schedule_id = await world.polling_schedule()
    world.gateway.outcomes += [bundles([{"n": 1}, {"n": 2}], "c2"), bundles([], "c2")]
    for _ in range(2):
        world.clock.advance(minutes=1)
        await world.scheduler().tick()
    [run] = world.producer.sent
    assert orjson.loads(run.trigger) == [{"n": 1}, {"n": 2}]
    assert orjson.loads(world.gateway.requests[1].inputs)["cursor"] == "c2"
    record = await world.store.get(ORG, schedule_id)
    assert record is not None and record.state.cursor == "c2" and record.state.last_error == ""


async def test_a_rate_limit_waits_retry_after_and_keeps_the_cursor(world: World) -> None:
    schedule_id = await world.polling_schedule()
    world.gateway.outcomes.append(failure("RateLimitError", "slow down", 150.0))
    world.clock.advance(minutes=1)  # 08:01
    await world.scheduler().tick()
    record = await world.store.get(ORG, schedule_id)
    assert record is not None and "slow down" in record.state.last_error
    assert not record.paused and record.state.cursor is None
    # Ready at 08:03:30: the first slot after it is 08:04, not 08:02.
    assert record.state.next_due_at == START + timedelta(minutes=4)
    world.clock.advance(minutes=2)
    await world.scheduler().tick()
    assert len(world.gateway.requests) == 1


async def test_refused_credentials_pause_the_schedule_with_the_reason(world: World) -> None:
    schedule_id = await world.polling_schedule()
    world.gateway.outcomes.append(failure("AuthError", "GitHub: Bad credentials (HTTP 401)"))
    world.clock.advance(minutes=1)
    await world.scheduler().tick()
    record = await world.store.get(ORG, schedule_id)
    assert record is not None and record.paused
    assert record.state.last_error.startswith("paused: github:WatchIssues: AuthError:")
    assert "Bad credentials" in record.state.last_error
    world.clock.advance(minutes=5)
    await world.scheduler().tick()
    assert len(world.gateway.requests) == 1  # paused: no more polls
