"""The trigger service: public webhook ingress, the scheduler (schedules and polling triggers),
and the WebhookService and ScheduleService APIs.

Requests for an inactive scenario are handed to the orchestrator as they come; it queues them
until the scenario is activated (docs/adr/0004-queue-while-inactive.md).

What tests (or an embedding launcher) may put into `host.shared` before starting it:
`"trigger.clock"` (a `() -> datetime` the scheduler and schedule API read the time from) and
`"trigger.poll_sources"` ({app: PollSource}). The service puts its Scheduler at
`"trigger.scheduler"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from scenarist.trigger.v1 import schedule_service_pb2_grpc, webhook_service_pb2_grpc
from scenarist_runtime.host import ServiceHost
from scenarist_storage.pg.schedules import PgScheduleStore
from scenarist_storage.pg.webhooks import PgWebhookStore
from scenarist_storage.ports import ScheduleStore, WebhookStore

from scenarist_trigger.crypto import load_box
from scenarist_trigger.grpc_api import WebhookServicer
from scenarist_trigger.guards import RateLimiter
from scenarist_trigger.ingress import Ingress
from scenarist_trigger.schedule_api import ScheduleServicer
from scenarist_trigger.scheduler import Scheduler, SchedulerConfig, utc_now
from scenarist_trigger.settings import TriggerSettings, trigger_settings
from scenarist_trigger.waiter import ResponseWaiter


@dataclass
class TriggerService:
    name: str = "trigger"
    schema: str = "trigger"
    store: WebhookStore | None = None  # tests may inject one; default: Postgres in `schema`
    schedules: ScheduleStore | None = None

    async def start(self, host: ServiceHost) -> None:
        settings = trigger_settings(host.settings)
        box = load_box(settings)
        store = self.store or PgWebhookStore(host.pool, self.schema)
        waiter = ResponseWaiter(host.bus)
        await waiter.start()
        host.lifecycle.spawn(waiter.run(host.lifecycle.stopping), name="webhook reply waiter")
        ingress = Ingress(
            store=store,
            box=box,
            producer=await host.bus.producer(),
            waiter=waiter,
            settings=settings,
            limiter=RateLimiter(),
        )
        host.routes.extend(ingress.routes())
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(
            WebhookServicer(store, box, settings.public_url), host.grpc_server
        )
        await self._start_scheduler(host, settings)

    async def _start_scheduler(self, host: ServiceHost, settings: TriggerSettings) -> None:
        schedules = self.schedules or PgScheduleStore(host.pool, self.schema)
        clock = host.shared.get("trigger.clock", utc_now)
        config = SchedulerConfig(
            tick_seconds=settings.schedule_tick_seconds,
            batch=settings.schedule_batch,
            pending_grace=timedelta(seconds=settings.schedule_pending_grace_seconds),
            default_runs_per_minute=settings.schedule_default_runs_per_minute,
            poll_timeout_seconds=settings.schedule_poll_timeout_seconds,
        )
        scheduler = Scheduler(
            schedules,
            await host.bus.producer(),
            clock=clock,
            sources=host.shared.get("trigger.poll_sources") or {},
            config=config,
        )
        host.shared["trigger.scheduler"] = scheduler
        host.lifecycle.spawn(scheduler.run(host.lifecycle.stopping), name="scheduler")
        schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(
            ScheduleServicer(schedules, clock), host.grpc_server
        )


def build() -> TriggerService:
    return TriggerService()
