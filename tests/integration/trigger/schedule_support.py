"""Helpers of the schedule integration tests: trigger hosts sharing one database, one in-process
bus and one hand-driven clock, so "two replicas" and "a restart" are real service instances and
no test waits for real minutes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import grpc
from pydantic import SecretStr
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist.trigger.v1 import schedule_pb2
from scenarist.trigger.v1 import schedule_service_pb2 as pb
from scenarist.trigger.v1 import schedule_service_pb2_grpc as pb_grpc
from scenarist_bus import envelope, topics
from scenarist_bus.local import LocalBus
from scenarist_bus.port import Bus, Consumer, Producer, TopicSpec
from scenarist_runtime.host import Hosted, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.memory import MemoryIdentityStore
from scenarist_storage.models import Role
from scenarist_trigger.polling import PollSource
from scenarist_trigger.scheduler import Scheduler
from scenarist_trigger.settings import TriggerSettings
from trigger_support import AnyScenario

KEY = "a" * 43 + "="
T0 = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class SharedBus:
    """The test's LocalBus, lent to a host: a host shutting down must not close it for the
    other replicas (and the test's own consumer)."""

    def __init__(self, bus: LocalBus) -> None:
        self._bus = bus

    async def producer(self) -> Producer:
        return await self._bus.producer()

    def consumer(self, group_id: str, topics: Iterable[str], **options: Any) -> Consumer:
        return self._bus.consumer(group_id, topics, **options)

    async def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        await self._bus.create_topics(specs)

    async def close(self) -> None:
        return None


@dataclass
class Replica:
    hosted: Hosted
    lifecycle: Lifecycle
    channel: grpc.aio.Channel

    @property
    def scheduler(self) -> Scheduler:
        found: Scheduler = self.hosted.host.shared["trigger.scheduler"]
        return found

    @property
    def api(self) -> pb_grpc.ScheduleServiceStub:
        return pb_grpc.ScheduleServiceStub(self.channel)

    async def stop(self) -> None:
        await self.channel.close()
        await self.lifecycle.shutdown()


@dataclass
class ScheduleWorld:
    dsn: str
    bus: LocalBus = field(default_factory=LocalBus)
    clock: Clock = field(default_factory=Clock)
    identity: MemoryIdentityStore = field(default_factory=MemoryIdentityStore)
    sources: dict[str, PollSource] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)
    auth: tuple[tuple[str, str], ...] = ()
    requests: Consumer | None = None
    seen: list[RunRequested] = field(default_factory=list)
    org: str = ""

    async def setup(self) -> None:
        await self.bus.create_topics(topics.ALL_TOPICS)
        org = (await self.identity.create_organization("Acme")).id
        self.org = str(org)
        _, secret = await self.identity.create_token(org, Role.EDITOR, "editor")
        self.auth = (("authorization", f"Bearer {secret}"),)
        self.requests = self.bus.consumer(f"test-{uuid.uuid4().hex}", [topics.RUNS_REQUESTED])
        await self.requests.start()

    async def start_replica(self) -> Replica:
        settings = TriggerSettings(
            service_name="trigger",
            mode="standalone",
            postgres_dsn=SecretStr(self.dsn),
            grpc_port=0,
            http_port=0,
            drain_timeout_seconds=5,
            webhook_secret_key=SecretStr(KEY),
            schedule_tick_seconds=0.02,
            schedule_pending_grace_seconds=30,
        )
        lifecycle = Lifecycle(settings)
        shared: dict[str, Any] = {
            "authenticator": self.identity,
            "trigger.clock": self.clock,
            "trigger.poll_sources": self.sources,
            "trigger.scenario_check": AnyScenario(),
        }
        bus: Bus = SharedBus(self.bus)
        hosted = await start_host(["trigger"], settings, lifecycle, bus=bus, shared=shared)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}")
        replica = Replica(hosted, lifecycle, channel)
        self.replicas.append(replica)
        return replica

    async def stop_all(self) -> None:
        for replica in self.replicas:
            await replica.stop()
        self.replicas.clear()

    async def forget_schedules(self) -> None:
        """Delete this test's schedules, so later tests' clocks do not fire them."""
        connection = await asyncpg.connect(self.dsn)
        try:
            await connection.execute(
                "DELETE FROM trigger.schedules WHERE org_id = $1", uuid.UUID(self.org)
            )
        finally:
            await connection.close()

    async def create(
        self, replica: Replica, timing: schedule_pb2.ScheduleTiming, **definition: Any
    ) -> schedule_pb2.Schedule:
        request = pb.CreateScheduleRequest(
            scenario_id=str(definition.pop("scenario_id", uuid.uuid4())),
            definition=pb.ScheduleDefinition(timing=timing, **definition),
        )
        response = await replica.api.CreateSchedule(request, metadata=self.auth)
        return response.schedule

    async def settle(self, passes: int = 3, timeout: float = 10.0) -> None:
        """Wait until every running scheduler finished `passes` more passes (bounded)."""
        loop = asyncio.get_running_loop()
        targets = [(r, r.scheduler.passes + passes) for r in self.replicas]
        deadline = loop.time() + timeout
        while any(r.scheduler.passes < goal for r, goal in targets):
            if loop.time() > deadline:
                raise AssertionError("the schedulers stopped making passes")
            await asyncio.sleep(0.01)

    async def drain(self) -> list[RunRequested]:
        """Every RunRequested that arrived since the last drain (after the schedulers settled)."""
        assert self.requests is not None
        await self.settle()
        while records := await self.requests.getmany(timeout_ms=50):
            for record in records:
                request = envelope.payload_as(envelope.unwrap(record), RunRequested)
                if request.organization_id == self.org:  # not an earlier test's schedules
                    self.seen.append(request)
        found, self.seen = self.seen, []
        return found
