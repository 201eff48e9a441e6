"""The orchestrator service: the run path's consumer loop plus the public gRPC API.

It owns the `identity` and `orchestrator` schemas: scenarios, runs and the outbox, and the
organizations and API tokens that authenticate every gRPC call of the process. What it offers the
services and launcher in the same process travels through `host.shared`:

- `"authenticator"`: the token authenticator the host's AuthInterceptor uses;
- `"bootstrap_admin"`: `async (mint: bool = False) -> (org_id, owner token | None)`, i.e.
  `bootstrap.ensure_bootstrap_admin` bound to this identity store (see there);
- `"automatic_completion"`: the automatic-completion loop (completion.py), for tests.

A `"completion_clock"` put in `shared` before start (`() -> aware datetime`) replaces the wall
clock of automatic completion, so tests move time instead of waiting minutes.

With `SCENARIST_BOOTSTRAP_FILE` set (`make up`), a process that finds no such file mints an owner
token and writes it there (see `bootstrap.write_bootstrap_file`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from pydantic import Field
from scenarist.identity.v1 import organization_service_pb2_grpc, token_service_pb2_grpc
from scenarist.run.v1 import run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2_grpc
from scenarist_bus.port import Producer
from scenarist_runtime.claim_check import claim_checks
from scenarist_runtime.host import ServiceHost
from scenarist_runtime.settings import ServiceSettings, load_settings
from scenarist_storage.pg import PgIdentityStore, PgRunStore, PgScenarioStore
from scenarist_storage.pg.completion import PgIncompleteRetryStore
from scenarist_storage.pg.incomplete import PgIncompleteStore
from scenarist_storage.pg.parked import PgParkedRunStore

from scenarist_orchestrator.api.organizations import OrganizationServicer
from scenarist_orchestrator.api.runs import RunServicer
from scenarist_orchestrator.api.scenarios import ScenarioServicer
from scenarist_orchestrator.api.tokens import TokenServicer
from scenarist_orchestrator.app_modules import app_kinds
from scenarist_orchestrator.authenticator import CachingAuthenticator
from scenarist_orchestrator.bootstrap import ensure_bootstrap_admin, write_bootstrap_file
from scenarist_orchestrator.completion import (
    AutomaticCompletion,
    Clock,
    CompletionSettings,
    utc_now,
)
from scenarist_orchestrator.loop import GATHER_MS, OrchestratorLoop
from scenarist_orchestrator.parking import DEFAULT_QUEUE_LIMIT, Parking
from scenarist_orchestrator.plans import PlanCache
from scenarist_orchestrator.processor import RunProcessor
from scenarist_orchestrator.retrying import IncompleteRetry, publish_run_request

log = logging.getLogger(__name__)

AUTH_CACHE_SECONDS = 2.0


class OrchestratorSettings(ServiceSettings):
    # Where `make up` wants the bootstrap owner token (env file, mode 600); unset: not written.
    bootstrap_file: str | None = None
    # Requests an inactive scenario queues at most (Make: 667 per 10 000 credits, at most
    # 10 000); more are refused ("Queue is full").
    scenario_queue_limit: int = Field(default=DEFAULT_QUEUE_LIMIT, gt=0, le=100_000)
    # How often automatic completion looks for due retries of incomplete executions.
    incomplete_retry_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How long a fan-out's results may gather into one batch (loop.GATHER_MS); 0: never.
    result_gather_ms: int = Field(default=GATHER_MS, ge=0, le=1000)


@dataclass
class OrchestratorService:
    name: str = "orchestrator"

    async def start(self, host: ServiceHost) -> None:
        identity = PgIdentityStore(host.pool)
        scenarios = PgScenarioStore(host.pool)
        runs = PgRunStore(host.pool)
        authenticator = CachingAuthenticator(identity, ttl_seconds=AUTH_CACHE_SECONDS)
        host.shared["authenticator"] = authenticator
        host.shared["bootstrap_admin"] = functools.partial(ensure_bootstrap_admin, identity)
        settings = load_settings(OrchestratorSettings, overrides=dict(host.settings))
        if settings.bootstrap_file:
            await write_bootstrap_file(identity, settings.bootstrap_file)

        server = host.grpc_server
        producer = await host.bus.producer()
        parked = PgParkedRunStore(host.pool)
        scenario_service_pb2_grpc.add_ScenarioServiceServicer_to_server(
            ScenarioServicer(scenarios, parked, producer), server
        )
        run_service_pb2_grpc.add_RunServiceServicer_to_server(
            RunServicer(
                scenarios,
                runs,
                producer,
                incomplete=PgIncompleteStore(host.pool),
                schedules=PgIncompleteRetryStore(host.pool),
            ),
            server,
        )
        organization_service_pb2_grpc.add_OrganizationServiceServicer_to_server(
            OrganizationServicer(identity), server
        )
        token_service_pb2_grpc.add_TokenServiceServicer_to_server(
            TokenServicer(identity, authenticator), server
        )

        async def postgres() -> object:
            return await host.pool.fetchval("SELECT 1") == 1

        host.lifecycle.health.add("postgres", postgres)
        parking = Parking(parked, settings.scenario_queue_limit)
        plans = PlanCache(scenarios, external=app_kinds())  # loads the connectors' entry points
        processor = RunProcessor(runs, plans, parking=parking, claims=claim_checks(host))
        loop = OrchestratorLoop(host.bus, runs, processor, gather_ms=settings.result_gather_ms)
        host.lifecycle.supervise(loop.run(host.lifecycle.stopping), name="orchestrator loop")
        _start_completion(host, settings, scenarios, runs, producer)


def _start_completion(
    host: ServiceHost,
    settings: OrchestratorSettings,
    scenarios: PgScenarioStore,
    runs: PgRunStore,
    producer: Producer,
) -> None:
    schedules = PgIncompleteRetryStore(host.pool)
    request = functools.partial(publish_run_request, producer, source="orchestrator-completion")
    retry = IncompleteRetry(runs, PgIncompleteStore(host.pool), request, schedules)
    clock: Clock = host.shared.get("completion_clock", utc_now)
    completion = AutomaticCompletion(
        scenarios,
        runs,
        schedules,
        retry,
        clock=clock,
        settings=CompletionSettings(poll_seconds=settings.incomplete_retry_poll_seconds),
    )
    host.shared["automatic_completion"] = completion
    host.lifecycle.supervise(
        completion.run(host.lifecycle.stopping), name="automatic completion loop"
    )


def build() -> OrchestratorService:
    return OrchestratorService()
