"""Every metric the dashboards and alert rules query is exposed by a running host.

All five services are hosted in standalone mode against real Postgres (and Redis for the
gateway's rate limiter), one webhook scenario with an app module runs through them, and then
/metrics is read. Labelless metrics have a sample from the start; labelled ones only once
something records them, so metrics that legitimately appear only under particular conditions
(failures, rate limiting) are listed below with the reason. Anything else a dashboard queries
must be there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist_runtime.host import Hosted
from support.platform import hosted_platform, secret_key, webhook_scenario

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]

SERVICES = ["orchestrator", "executor", "trigger", "log", "connector_gateway"]
# A webhook run with a built-in module (executor) and an app module (connector gateway).
SCENARIO = """\
name: Metrics probe
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:ComposeTransformer, mapper: {value: "Hello {{1.name}}"}}
  - id: 3
    module: csv:ParseCSV
    mapper: {csv: "greeting\\n{{2.value}}", containsHeaders: true}
  - id: 4
    module: gateway:WebhookRespond
    mapper: {status: "200", body: "{{3.greeting}}"}
"""

FINAL = {
    run_pb2.RunStatus.RUN_STATUS_SUCCESS,
    run_pb2.RunStatus.RUN_STATUS_WARNING,
    run_pb2.RunStatus.RUN_STATUS_ERROR,
    run_pb2.RunStatus.RUN_STATUS_CANCELLED,
}

# Reasons a queried metric may have no sample after one successful run on this host.
ONLY_ON_FAILURE = "recorded only when something fails"
EXPECTED_ABSENT: dict[str, str] = {
    # Failures: a healthy run produces none.
    "scenarist_dlq_messages_total": ONLY_ON_FAILURE,
    "scenarist_module_errors_total": ONLY_ON_FAILURE,
    # Recorded when a connector call had to wait for a rate-limit token; one call never waits.
    "scenarist_rate_limit_waits_total": "recorded only when a rate limit makes a call wait",
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
async def hosted(
    ops_database_dsn: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Hosted]:
    monkeypatch.setenv("SCENARIST_SECRETS_KEY", secret_key())
    monkeypatch.setenv("SCENARIST_WEBHOOK_SECRET_KEY", secret_key())
    monkeypatch.setenv("SCENARIST_RATE_LIMIT_BACKEND", "redis")  # for the Redis pool gauges
    async with hosted_platform(
        SERVICES, "ops-metrics", ops_database_dsn, redis_url=redis_url
    ) as hosted:
        yield hosted


async def _run_one_scenario(hosted: Hosted) -> Any:
    """Create and activate the scenario, call its webhook, and return the finished run."""
    scenario = await webhook_scenario(hosted, SCENARIO, "probe")
    auth, scenario_id = scenario.auth, scenario.scenario_id
    async with grpc.aio.insecure_channel(f"127.0.0.1:{hosted.grpc_port}") as channel:
        runs = run_service_pb2_grpc.RunServiceStub(channel)
        url = hosted.http_url.rstrip("/") + scenario.url_path
        answer = await asyncio.to_thread(_post, url, b'{"name": "x"}')
        assert answer == "Hello x"
        for _ in range(400):  # bounded poll, ~20 s
            listed = await runs.ListRuns(
                run_service_pb2.ListRunsRequest(scenario_id=scenario_id), metadata=auth
            )
            if listed.runs and listed.runs[0].status in FINAL:
                return listed.runs[0]
            await asyncio.sleep(0.05)
    pytest.fail("the run did not finish")


def _post(url: str, body: bytes) -> str:
    request = urllib.request.Request(  # loopback URL built by the test
        url, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


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
