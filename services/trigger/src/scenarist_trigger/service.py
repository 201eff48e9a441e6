"""The trigger service: public webhook ingress, the scheduler (schedules and polling triggers),
and the WebhookService and ScheduleService APIs.

Requests for an inactive scenario are handed to the orchestrator as they come; it queues them
until the scenario is activated (docs/adr/0004-queue-while-inactive.md).

What tests (or an embedding launcher) may put into `host.shared` before starting it:
`"trigger.clock"` (a `() -> datetime` the scheduler and schedule API read the time from),
`"trigger.poll_sources"` ({app: PollSource}, ahead of the gateway, which polls every other app)
and `"trigger.scenario_check"` (a ScenarioCheck standing in for the orchestrator when it is not
hosted with the trigger; see scenario_check.py). The service puts its Scheduler at
`"trigger.scheduler"`.

Polling triggers of app modules run in the connector gateway (gateway_polling.py), reached like
the executor reaches it: in-process when hosted together, else its internal port.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from scenarist.trigger.v1 import schedule_service_pb2_grpc, webhook_service_pb2_grpc
from scenarist_runtime.claim_check import claim_checks
from scenarist_runtime.gateway import gateway_execute
from scenarist_runtime.host import ServiceHost
from scenarist_storage.capture_models import CaptureStore
from scenarist_storage.pg.captures import PgCaptureStore
from scenarist_storage.pg.schedules import PgScheduleStore
from scenarist_storage.pg.webhooks import PgWebhookStore
from scenarist_storage.ports import ScheduleStore, WebhookStore

from scenarist_trigger.capture import CaptureGate
from scenarist_trigger.crypto import load_box
from scenarist_trigger.gateway_polling import GatewayPollSource
from scenarist_trigger.grpc_api import WebhookServicer
from scenarist_trigger.guards import RateLimiter
from scenarist_trigger.ingress import Ingress
from scenarist_trigger.scenario_check import ScenarioCheck, orchestrator_check
from scenarist_trigger.schedule_api import ScheduleServicer
from scenarist_trigger.scheduler import Scheduler, SchedulerConfig, utc_now
from scenarist_trigger.settings import TriggerSettings, trigger_settings
from scenarist_trigger.waiter import ResponseWaiter
from scenarist_trigger.webhook_cache import CachedWebhookStore


@dataclass
class TriggerService:
    name: str = "trigger"
    schema: str = "trigger"
    store: WebhookStore | None = None  # tests may inject one; default: Postgres in `schema`
    schedules: ScheduleStore | None = None
    captures: CaptureStore | None = None

    async def start(self, host: ServiceHost) -> None:
        settings = trigger_settings(host.settings)
        box = load_box(settings)
        # The ingress reads a webhook per request; the API writes through the same cache.
        store = CachedWebhookStore(self.store or PgWebhookStore(host.pool, self.schema))
        captures = CaptureGate(self.captures or PgCaptureStore(host.pool, self.schema))
        scenarios = self._scenario_check(host)
        waiter = ResponseWaiter(host.bus)
        await waiter.start()
        host.lifecycle.supervise(waiter.run(host.lifecycle.stopping), name="webhook reply waiter")
        ingress = Ingress(
            store=store,
            box=box,
            producer=await host.bus.producer(),
            waiter=waiter,
            settings=settings,
            limiter=RateLimiter(),
            captures=captures,
            claims=claim_checks(host),
        )
        host.routes.extend(ingress.routes())
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server(
            WebhookServicer(
                store, box, settings.public_url, scenarios=scenarios, captures=captures
            ),
            host.grpc_server,
        )
        await self._start_scheduler(host, settings, scenarios)

    def _scenario_check(self, host: ServiceHost) -> ScenarioCheck:
        check = orchestrator_check(host.settings, host.shared)
        close = getattr(check, "close", None)
        if close is not None:
            host.lifecycle.add_shutdown_hook(close, name="scenario check channel")
        return check

    async def _start_scheduler(
        self, host: ServiceHost, settings: TriggerSettings, scenarios: ScenarioCheck
    ) -> None:
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
            default_source=GatewayPollSource(
                gateway_execute(host, settings), timeout=settings.schedule_poll_timeout_seconds
            ),
            config=config,
        )
        host.shared["trigger.scheduler"] = scheduler
        host.lifecycle.supervise(scheduler.run(host.lifecycle.stopping), name="scheduler")
        schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(
            ScheduleServicer(schedules, clock, scenarios=scenarios), host.grpc_server
        )


def build() -> TriggerService:
    return TriggerService()
