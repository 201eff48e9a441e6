"""The run path across separate processes: a webhook call runs through trigger → orchestrator →
executors (→ connector gateway for the app module) → log over real Kafka and gRPC, and two
executors share the module tasks."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from distributed_support import (
    SUCCESS,
    Api,
    Cluster,
    Tenant,
    fan_out,
    items_input,
    until,
)
from scenarist.identity.v1 import identity_pb2, organization_service_pb2
from scenarist.run.v1 import run_service_pb2
from scenarist.trigger.v1 import webhook_pb2, webhook_service_pb2
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

GREETING = """\
name: Distributed greeting
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:FunctionSleep, mapper: {duration: 0}}
  - id: 3
    module: csv:ParseCSV
    mapper: {csv: "greeting\\nHello {{1.name}}", containsHeaders: true}
  - id: 4
    module: gateway:WebhookRespond
    mapper: {status: "200", body: "{{3.greeting}}"}
"""


async def test_the_bootstrap_token_of_make_up_is_an_owner(cluster: Cluster, api: Api) -> None:
    me = await api.organizations.GetOrganization(
        organization_service_pb2.GetOrganizationRequest(),
        metadata=(("authorization", f"Bearer {cluster.bootstrap_token()}"),),
    )
    assert me.role == identity_pb2.ROLE_OWNER
    assert (cluster.run_dir / "local.env").stat().st_mode & 0o777 == 0o600
    assert (cluster.services_dir / "keys.env").stat().st_mode & 0o777 == 0o600


async def test_the_services_keep_to_the_database_they_were_given(cluster: Cluster) -> None:
    # The cluster runs on a database of its own (services.sh's SCENARIST_SERVICES_* overrides,
    # which the distributed benchmark uses): the infrastructure's default one stays untouched.
    default_dsn = cluster.infra_env()["SCENARIST_POSTGRES_DSN"]
    assert (
        cluster.postgres_dsn.endswith("/scenarist_cluster") and default_dsn != cluster.postgres_dsn
    )
    for dsn, migrated in ((cluster.postgres_dsn, True), (default_dsn, False)):
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetchval("SELECT to_regclass('orchestrator.runs') IS NOT NULL")
        finally:
            await conn.close()
        assert found is migrated, dsn
    assert (cluster.services_dir / "orchestrator.pid").is_file()
    assert not (cluster.run_dir / "services").exists()


async def test_a_webhook_run_crosses_every_service_and_is_logged(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    scenario_id = await api.create_scenario(acme, GREETING, activate=True)
    hook = await api.webhooks.CreateWebhook(
        webhook_service_pb2.CreateWebhookRequest(
            scenario_id=scenario_id, name="greeting", auth=webhook_pb2.WEBHOOK_AUTH_NONE
        ),
        metadata=acme.auth(Role.EDITOR),
    )
    async with httpx.AsyncClient(timeout=60) as client:
        reply = await client.post(
            cluster.http("trigger") + hook.webhook.url_path, json={"name": "Ada"}
        )
    assert (reply.status_code, reply.text) == (200, "Hello Ada")

    listed = await api.runs.ListRuns(
        run_service_pb2.ListRunsRequest(scenario_id=scenario_id), metadata=acme.auth()
    )
    [run] = await api.finished_runs(acme, [r.id for r in listed.runs])
    assert run.status == SUCCESS
    steps = await until(
        lambda: api.run_log(acme, run.id),
        lambda found: len(found) >= run.operations,
        timeout=30,
        what="the run's steps in the log service",
    )
    assert sorted(step.module_id for step in steps) == [1, 2, 3, 4]
    assert len(steps) == run.operations
    assert {step.module for step in steps} >= {"util:FunctionSleep", "csv:ParseCSV"}
    # The app module ran in a connector gateway, called by an executor on its internal port.
    assert sum(await _csv_calls(cluster)) >= 1


GATEWAYS = ("connector_gateway", "connector_gateway-2")


async def _csv_calls(cluster: Cluster) -> list[float]:
    sample = "scenarist_connector_calls_total"
    return [await cluster.counter(name, sample, app="csv", outcome="ok") for name in GATEWAYS]


async def test_the_executors_spread_app_calls_over_both_gateways(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    # Each executor's channel names every gateway's internal port and calls them round robin;
    # with the default policy every call would go to the first one listed.
    scenario_id = await api.create_scenario(acme, GREETING, activate=True)
    before = await _csv_calls(cluster)
    for _ in range(20):
        run_id = await api.start_run(acme, scenario_id, '{"name": "Ada"}')
        [run] = await api.finished_runs(acme, [run_id])
        assert run.status == SUCCESS
        now = await _csv_calls(cluster)
        if all(after > earlier for after, earlier in zip(now, before, strict=True)):
            return
    raise AssertionError(f"app calls per gateway, before {before}, after {now}")


async def _executed(cluster: Cluster) -> list[float]:
    sample = "scenarist_tasks_executed_total"
    return [
        await cluster.counter(name, sample, module_kind_family="util")
        for name in ("executor-1", "executor-2")
    ]


async def _until_both_executors_work(api: Api, acme: Tenant, cluster: Cluster) -> list[int]:
    """Rounds of fan-out runs until both executors took tasks: right after a (re)start an
    executor may still be joining the group, and then the other one rightly takes everything.
    Returns the tasks each executor ran meanwhile."""
    before = await _executed(cluster)
    scenario_id = await api.create_scenario(acme, fan_out(8, 0.05, 8), activate=True)
    shares, rounds = [0, 0], 0
    deadline = asyncio.get_running_loop().time() + 60
    while not all(shares) and asyncio.get_running_loop().time() < deadline:
        run_ids = await asyncio.gather(
            *(api.start_run(acme, scenario_id, items_input(8)) for _ in range(4))
        )
        runs = await api.finished_runs(acme, list(run_ids))
        assert {run.status for run in runs} == {SUCCESS}
        rounds += 1
        after = await _executed(cluster)
        shares = [int(a - b) for a, b in zip(after, before, strict=True)]
    assert sum(shares) == rounds * 4 * 8  # one sleep task per item, none executed twice
    return shares


async def test_two_executors_share_the_module_tasks(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    shares = await _until_both_executors_work(api, acme, cluster)
    assert all(share > 0 for share in shares), shares


async def test_a_fan_out_is_dealt_evenly_to_the_executors(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    # Tasks go without a key and the orchestrator's producer deals them round robin over the
    # 24 partitions of tasks.module, 12 per executor: 48 tasks are 2 a partition and 24 an
    # executor, exactly. (A hash of a key per task split them at random around 24, and the
    # run waited for the executor that drew more.)
    assert all(await _until_both_executors_work(api, acme, cluster))  # the group has settled
    before = await _executed(cluster)
    scenario_id = await api.create_scenario(acme, fan_out(48, 0, 48), activate=True)
    run_id = await api.start_run(acme, scenario_id, items_input(48))
    [run] = await api.finished_runs(acme, [run_id])
    assert run.status == SUCCESS
    after = await _executed(cluster)
    assert [int(a - b) for a, b in zip(after, before, strict=True)] == [24, 24]


CLI_SCENARIO = """\
name: CLI routing {suffix}
flow:
  - {{id: 1, module: gateway:CustomWebHook}}
  - {{id: 2, module: util:ComposeTransformer, mapper: {{value: "Hello {{{{1.name}}}}"}}}}
"""


async def _cli(workdir: Path, *argv: str) -> Any:
    """`scenarist ARGV` in `workdir` with no SCENARIST_* variables: only .scenarist/local.env."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCENARIST_")}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "scenarist_cli.main", *argv],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (argv, done.stderr)
    return json.loads(done.stdout)


async def test_the_cli_finds_every_service_through_local_env_alone(
    cluster: Cluster, tmp_path: Path
) -> None:
    # services.sh wrote one server per service; no --server flag: each command group must go to
    # the process that serves it (runs: orchestrator, webhooks: trigger, logs: log service).
    (tmp_path / ".scenarist").mkdir()
    shutil.copy(cluster.run_dir / "local.env", tmp_path / ".scenarist" / "local.env")
    document = tmp_path / "scenario.yaml"
    document.write_text(CLI_SCENARIO.format(suffix=uuid.uuid4().hex[:8]), encoding="utf-8")
    scenario_id = (await _cli(tmp_path, "scenario", "apply", str(document)))["id"]
    await _cli(tmp_path, "scenario", "activate", scenario_id)
    hook = await _cli(tmp_path, "webhook", "create", "--scenario", scenario_id)
    run = await _cli(tmp_path, "run", "start", scenario_id, "--input", '{"name": "Ada"}', "--wait")
    assert run["status"] == "RUN_STATUS_SUCCESS"
    logs = await until(
        lambda: _cli(tmp_path, "run", "logs", run["id"]),
        lambda found: len(found["steps"]) >= int(run["operations"]),
        timeout=30,
        what="the run's steps through `scenarist run logs`",
    )
    assert sorted(step["module_id"] for step in logs["steps"]) == [1, 2]
    listed = await _cli(tmp_path, "webhook", "list", "--scenario", scenario_id)
    assert [found["id"] for found in listed["webhooks"]] == [hook["id"]]
