"""The trigger service: public webhook ingress and the WebhookService API.

Schedules and polling triggers will join here; queueing requests while a scenario is off is not
built yet (requests for an inactive scenario are handed to the orchestrator as they come).
"""

from __future__ import annotations

from dataclasses import dataclass

from scenarist.trigger.v1 import webhook_service_pb2_grpc
from scenarist_runtime.host import ServiceHost
from scenarist_storage.pg.webhooks import PgWebhookStore
from scenarist_storage.ports import WebhookStore

from scenarist_trigger.crypto import load_box
from scenarist_trigger.grpc_api import WebhookServicer
from scenarist_trigger.guards import RateLimiter
from scenarist_trigger.ingress import Ingress
from scenarist_trigger.settings import trigger_settings
from scenarist_trigger.waiter import ResponseWaiter


@dataclass
class TriggerService:
    name: str = "trigger"
    schema: str = "trigger"
    store: WebhookStore | None = None  # tests may inject one; default: Postgres in `schema`

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


def build() -> TriggerService:
    return TriggerService()
