"""Every metric the dashboards and alert rules query is exposed by a running host.

The orchestrator and an executor are hosted in standalone mode against real Postgres, one
scenario runs through them over gRPC, and then /metrics is read. Labelless metrics have a sample
from the start; labelled ones only once something records them, so metrics that legitimately
appear only under particular conditions (failures, other services, load) are listed below with
the reason. Anything else a dashboard queries must be there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from pydantic import SecretStr
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist_runtime.host import Hosted, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]

SCENARIO = """\
name: Metrics probe
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:ComposeTransformer, mapper: {value: "Hello {{1.name}}"}}
"""

FINAL = {
    run_pb2.RunStatus.RUN_STATUS_SUCCESS,
    run_pb2.RunStatus.RUN_STATUS_WARNING,
    run_pb2.RunStatus.RUN_STATUS_ERROR,
    run_pb2.RunStatus.RUN_STATUS_CANCELLED,
}

# Reasons a queried metric may have no sample after one successful run on this host.
ONLY_ON_FAILURE = "recorded only when something fails"
OTHER_SERVICE = "recorded by a service this host does not run"
NOT_RECORDED = "defined in metrics.py but not yet recorded by any service (instrumentation gap)"
EXPECTED_ABSENT: dict[str, str] = {
    # Failures and retries: a healthy run produces none.
    "scenarist_dlq_messages_total": ONLY_ON_FAILURE,
    "scenarist_module_errors_total": ONLY_ON_FAILURE,
    # Only the trigger records webhook outcomes.
    "scenarist_webhook_requests_total": OTHER_SERVICE + " (trigger)",
    # Labelled metrics nothing recorded when this list was written; remove an entry once its
    # instrumentation lands (an entry that is exposed after all is harmless, not an error).
    "scenarist_tasks_executed_total": NOT_RECORDED,
    "scenarist_task_duration_seconds_bucket": NOT_RECORDED,
    "scenarist_consumer_lag": NOT_RECORDED,
    "scenarist_bus_messages_produced_total": NOT_RECORDED,
    "scenarist_db_pool_in_use": NOT_RECORDED,
    "scenarist_db_pool_size": NOT_RECORDED,
    "scenarist_db_transaction_duration_seconds_bucket": NOT_RECORDED,
    "scenarist_redis_pool_in_use": NOT_RECORDED,
    "scenarist_redis_pool_size": NOT_RECORDED,
    "scenarist_connector_calls_total": NOT_RECORDED,
    "scenarist_connector_call_duration_seconds_bucket": NOT_RECORDED,
    "scenarist_rate_limit_waits_total": NOT_RECORDED,
    # Set by run_services (the process entry point), which this in-process host bypasses.
    "scenarist_build_info": "set by `python -m scenarist_<service>`, not by start_host",
}


def _ops_queries() -> ModuleType:
    """tests/ops/ops_queries.py, loaded by path (it is not on this directory's import path)."""
    path = REPO / "tests" / "ops" / "ops_queries.py"
    spec = importlib.util.spec_from_file_location("ops_queries_for_integration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def hosted(ops_database_dsn: str) -> AsyncIterator[Hosted]:
    settings = ServiceSettings(
        service_name="orchestrator+executor",
        mode="standalone",
        http_port=0,
        grpc_port=0,
        postgres_dsn=SecretStr(ops_database_dsn),
        drain_timeout_seconds=5.0,
    )
    lifecycle = Lifecycle(settings)
    try:
        yield await start_host(["orchestrator", "executor"], settings, lifecycle)
    finally:
        await lifecycle.shutdown()


async def _run_one_scenario(hosted: Hosted) -> Any:
    identity = PgIdentityStore(hosted.host.pool)
    org = await identity.create_organization(f"ops-{uuid.uuid4().hex[:6]}")
    _, token = await identity.create_token(org.id, Role.EDITOR, "ops")
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
        scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(channel)
        runs = run_service_pb2_grpc.RunServiceStub(channel)
        created = await scenarios.CreateScenario(
            scenario_service_pb2.CreateScenarioRequest(document=SCENARIO), metadata=auth
        )
        started = await runs.StartRun(
            run_service_pb2.StartRunRequest(scenario_id=created.scenario.id, input='{"name": "x"}'),
            metadata=auth,
        )
        for _ in range(400):  # bounded poll, ~20 s
            got = await runs.GetRun(
                run_service_pb2.GetRunRequest(run_id=started.run.id), metadata=auth
            )
            if got.run.status in FINAL:
                return got.run
            await asyncio.sleep(0.05)
    pytest.fail("the run did not finish")


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:  # loopback only
        return str(response.read().decode())


async def test_every_queried_metric_is_exposed_after_a_run(hosted: Hosted) -> None:
    run = await _run_one_scenario(hosted)
    assert run.status == run_pb2.RunStatus.RUN_STATUS_SUCCESS
    ops = _ops_queries()
    exposition = await asyncio.to_thread(_scrape, hosted.http_url)
    exposed = ops.exposed_samples(exposition)
    queried: dict[str, set[str]] = ops.queried_names()
    missing = {
        name: sorted(where)
        for name, where in queried.items()
        if name not in exposed and name not in EXPECTED_ABSENT
    }
    assert not missing, f"queried by dashboards/rules but not on /metrics: {missing}"
    # The list of exceptions only names metrics that some dashboard or rule queries.
    assert set(EXPECTED_ABSENT) <= set(queried)


async def test_labelless_metrics_are_exposed_before_any_traffic(hosted: Hosted) -> None:
    ops = _ops_queries()
    families = ops.declared_families(await asyncio.to_thread(_scrape, hosted.http_url))
    for name in ("scenarist_operations", "scenarist_tasks_in_flight", "scenarist_task_slots"):
        assert any(family.startswith(name) for family in families), name
    assert "process_cpu_seconds" in "".join(families)
