"""Scheduler passes on the in-memory schedule store with a hand-driven clock: exactly one fire per
slot across concurrent passes, resend of unacknowledged fires, missed runs, the rate limit and the
polling cursor with its seen-id guard."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_POLL, TRIGGER_SOURCE_SCHEDULE
from scenarist_bus import envelope
from scenarist_bus.port import BusError, OutgoingMessage, Record, RecordMetadata
from scenarist_storage.memory.schedules import MemoryScheduleStore
from scenarist_storage.schedule_models import NewSchedule, ScheduleDefinition
from scenarist_trigger.polling import ListPollSource, PollSource
from scenarist_trigger.scheduler import Scheduler, SchedulerConfig, calendar_for

ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
START = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)


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
    failing: bool = False

    async def send(self, msg: OutgoingMessage) -> RecordMetadata:
        await asyncio.sleep(0)  # let concurrent passes interleave
        if self.failing:
            raise BusError("bus down")
        record = Record(msg.topic, 0, len(self.sent), msg.key, msg.value, msg.headers, 0)
        self.sent.append(envelope.payload_as(envelope.unwrap(record), RunRequested))
        return RecordMetadata(msg.topic, 0, len(self.sent), 0)

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        return [await self.send(m) for m in msgs]


@dataclass
class Env:
    store: MemoryScheduleStore
    producer: RecordingProducer
    clock: Clock
    sources: dict[str, PollSource]

    def scheduler(self, **config: Any) -> Scheduler:
        return Scheduler(
            self.store,
            self.producer,
            clock=self.clock,
            sources=self.sources,
            config=SchedulerConfig(**config),
        )

    async def schedule(
        self, timing: dict[str, Any], scenario: uuid.UUID | None = None, **definition: Any
    ) -> uuid.UUID:
        if timing["kind"] == "interval":
            timing = {**timing, "origin": self.clock().isoformat()}
        d = ScheduleDefinition(name="s", timing=timing, **definition)
        due = calendar_for(d, self.clock()).next_due(self.clock())
        new = NewSchedule(uuid.uuid4(), ORG, scenario or uuid.uuid4(), d, due)
        return (await self.store.create(new)).id


@pytest.fixture
def env() -> Env:
    clock = Clock()
    return Env(MemoryScheduleStore(clock=clock), RecordingProducer(), clock, {})


async def test_concurrent_passes_fire_a_slot_once(env: Env) -> None:
    schedule_id = await env.schedule({"kind": "interval", "interval_minutes": 15})
    replicas = [env.scheduler(), env.scheduler()]
    assert await replicas[0].tick() == 0  # not due yet
    env.clock.advance(minutes=15)
    sent = await asyncio.gather(*(r.tick() for r in replicas), *(r.tick() for r in replicas))
    assert sum(sent) == 1
    [request] = env.producer.sent
    assert request.idempotency_key == f"schedule:{schedule_id}:2030-01-07T08:15:00Z"
    assert request.source == TRIGGER_SOURCE_SCHEDULE and request.source_ref == str(schedule_id)
    assert orjson.loads(request.trigger)["due_at"] == "2030-01-07T08:15:00+00:00"
    record = await env.store.get(ORG, schedule_id)
    assert record is not None and record.state.pending is None
    assert record.state.next_due_at == START + timedelta(minutes=30)


async def test_an_unacknowledged_fire_is_resent_with_the_same_run_and_key(env: Env) -> None:
    schedule_id = await env.schedule({"kind": "daily", "time": "09:00"})
    scheduler = env.scheduler(pending_grace=timedelta(seconds=30))
    env.clock.advance(hours=1)
    env.producer.failing = True
    assert await scheduler.tick() == 0
    record = await env.store.get(ORG, schedule_id)
    assert record is not None and record.state.pending is not None
    assert record.state.next_due_at == datetime(2030, 1, 8, 9, tzinfo=UTC)  # advanced already
    env.producer.failing = False
    assert await scheduler.tick() == 0  # within the grace: its sender may still be at it
    env.clock.advance(seconds=31)
    assert await scheduler.tick() == 1
    sent = env.producer.sent
    pending = RunRequested.FromString(record.state.pending.message)
    assert [(r.run_id, r.idempotency_key) for r in sent] == [
        (pending.run_id, pending.idempotency_key)
    ]
    assert await scheduler.tick() == 0


async def test_missed_runs_fire_once_for_the_latest_slot(env: Env) -> None:
    schedule_id = await env.schedule({"kind": "daily", "time": "09:00"}, time_zone="Europe/Prague")
    env.clock.advance(days=5)  # everything was down for five days
    assert await env.scheduler().tick() == 1
    [request] = env.producer.sent
    assert request.idempotency_key == f"schedule:{schedule_id}:2030-01-12T08:00:00Z"
    assert await env.scheduler().tick() == 0


async def test_once_finishes(env: Env) -> None:
    schedule_id = await env.schedule({"kind": "once", "once_at": "2030-01-07T10:00"})
    env.clock.advance(hours=3)
    assert await env.scheduler().tick() == 1
    record = await env.store.get(ORG, schedule_id)
    assert record is not None and record.state.next_due_at is None
    env.clock.advance(days=400)
    assert await env.scheduler().tick() == 0


async def test_rate_limit_delays_the_excess_to_the_next_minute(env: Env) -> None:
    scenario = uuid.uuid4()
    ids = [
        await env.schedule(
            {"kind": "interval", "interval_minutes": 60}, scenario, max_runs_per_minute=1
        )
        for _ in range(3)
    ]
    env.clock.advance(minutes=60)
    assert await env.scheduler().tick() == 1
    env.clock.advance(seconds=30)
    assert await env.scheduler().tick() == 0  # same minute: still over the budget
    env.clock.advance(seconds=30)
    assert await env.scheduler().tick() == 1
    env.clock.advance(minutes=1)
    assert await env.scheduler().tick() == 1
    keys = sorted(r.idempotency_key for r in env.producer.sent)
    # Each delayed run keeps its slot's key.
    assert keys == sorted(f"schedule:{i}:2030-01-07T09:00:00Z" for i in ids)


async def test_poll_emits_new_items_once_and_keeps_the_cursor(env: Env) -> None:
    source = ListPollSource()
    env.sources["scenarist-test"] = source
    poll = {"app": "scenarist-test", "module": "WatchItems", "max_items": 2}
    schedule_id = await env.schedule({"kind": "interval", "interval_minutes": 1}, poll=poll)
    scheduler = env.scheduler()
    env.clock.advance(minutes=1)
    assert await scheduler.tick() == 0  # nothing new: no run, but the slot passed
    for n in range(3):
        source.add(f"id-{n}", {"n": n})
    env.clock.advance(minutes=1)
    assert await scheduler.tick() == 1
    env.clock.advance(minutes=1)
    assert await scheduler.tick() == 1
    env.clock.advance(minutes=1)
    assert await scheduler.tick() == 0
    batches = [orjson.loads(r.trigger) for r in env.producer.sent]
    assert batches == [[{"n": 0}, {"n": 1}], [{"n": 2}]]
    assert {r.source for r in env.producer.sent} == {TRIGGER_SOURCE_POLL}
    record = await env.store.get(ORG, schedule_id)
    assert record is not None and record.state.cursor == "3"
    assert record.state.seen == ("id-0", "id-1", "id-2")


async def test_seen_ids_guard_a_source_that_ignores_the_cursor(env: Env) -> None:
    source = ListPollSource(honor_cursor=False)
    env.sources["scenarist-test"] = source
    source.add("a", {"v": "a"})
    poll = {"app": "scenarist-test", "module": "WatchItems"}
    await env.schedule({"kind": "interval", "interval_minutes": 1}, poll=poll)
    for extra in ("b", None):
        env.clock.advance(minutes=1)
        await env.scheduler().tick()
        if extra:
            source.add(extra, {"v": extra})
    env.clock.advance(minutes=1)
    await env.scheduler().tick()
    assert [orjson.loads(r.trigger) for r in env.producer.sent] == [[{"v": "a"}], [{"v": "b"}]]


async def test_poll_errors_are_recorded_and_keep_the_cursor(env: Env) -> None:
    source = ListPollSource()
    source.failure = "the app said 503"
    env.sources["scenarist-test"] = source
    poll = {"app": "scenarist-test", "module": "WatchItems"}
    schedule_id = await env.schedule({"kind": "interval", "interval_minutes": 1}, poll=poll)
    unknown = await env.schedule(
        {"kind": "interval", "interval_minutes": 1}, poll={"app": "nope", "module": "x"}
    )
    env.clock.advance(minutes=1)
    assert await env.scheduler().tick() == 0
    record = await env.store.get(ORG, schedule_id)
    assert record is not None and record.state.last_error == "the app said 503"
    assert record.state.cursor is None
    other = await env.store.get(ORG, unknown)
    assert other is not None and "no poll source" in other.state.last_error
    source.failure = None
    source.add("x", {"x": 1})
    env.clock.advance(minutes=1)
    assert await env.scheduler().tick() == 1
