"""The whole platform hosted in the test process, and a scenario reachable through a webhook."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from pydantic import SecretStr
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import webhook_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from scenarist_runtime.host import Hosted, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore


def secret_key() -> str:
    """A fresh base64 AES key, as the services' SCENARIST_*_KEY settings expect."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


@asynccontextmanager
async def hosted_platform(
    services: Sequence[str], name: str, database_dsn: str, *, redis_url: str | None = None
) -> AsyncIterator[Hosted]:
    """`services` in standalone mode on ephemeral ports, drained on exit."""
    settings = ServiceSettings(
        service_name=name,
        mode="standalone",
        http_port=0,
        grpc_port=0,
        postgres_dsn=SecretStr(database_dsn),
        drain_timeout_seconds=5.0,
        **({"redis_url": SecretStr(redis_url)} if redis_url else {}),
    )
    lifecycle = Lifecycle(settings)
    try:
        yield await start_host(services, settings, lifecycle)
    finally:
        await lifecycle.shutdown()


@dataclass(frozen=True)
class WebhookScenario:
    token: str  # an editor's API token of the scenario's organization
    scenario_id: str
    url_path: str

    @property
    def auth(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),)


async def webhook_scenario(hosted: Hosted, document: str, name: str) -> WebhookScenario:
    """A new organization with `document` created, activated and given a webhook."""
    identity = PgIdentityStore(hosted.host.pool)
    org = await identity.create_organization(f"{name}-{uuid.uuid4().hex[:6]}")
    _, token = await identity.create_token(org.id, Role.EDITOR, name)
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
        scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(channel)
        created = await scenarios.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=document), metadata=auth
        )
        scenario_id = created.scenario.id
        await scenarios.ActivateScenario(
            scenario_service_pb2.ActivateScenarioRequest(scenario_id=scenario_id), metadata=auth
        )
        hook = await webhook_service_pb2_grpc.WebhookServiceStub(channel).CreateWebhook(
            webhook_service_pb2.CreateWebhookRequest(
                scenario_id=scenario_id, name=name, auth=webhook_pb2.WEBHOOK_AUTH_NONE
            ),
            metadata=auth,
        )
    return WebhookScenario(token, scenario_id, str(hook.webhook.url_path))
