"""SIGKILL mid-run: an executor, then the orchestrator. Another instance takes over the
partitions (after the group's session timeout) and every run completes exactly once: final
status SUCCESS, the exact operation count, one run per request and one log step per operation."""

from __future__ import annotations

import asyncio
import functools

import pytest
from distributed_support import (
    FINAL,
    SUCCESS,
    Api,
    Cluster,
    Tenant,
    fan_out,
    fan_out_operations,
    items_input,
    until,
)
from scenarist.run.v1 import run_service_pb2

pytestmark = pytest.mark.integration

RUNS = 24
ITEMS = 4
SLEEP_SECONDS = 1.0  # long enough that a kill lands while tasks are in flight


async def _start_runs(api: Api, acme: Tenant) -> tuple[str, list[str]]:
    scenario_id = await api.create_scenario(
        acme, fan_out(ITEMS, SLEEP_SECONDS, ITEMS), activate=True
    )
    run_ids = await asyncio.gather(
        *(api.start_run(acme, scenario_id, items_input(ITEMS)) for _ in range(RUNS))
    )
    return scenario_id, list(run_ids)


async def _in_flight(cluster: Cluster, *executors: str) -> float:
    return sum([await cluster.counter(name, "scenarist_tasks_in_flight") for name in executors])


async def _assert_each_completed_once(
    api: Api, acme: Tenant, scenario_id: str, run_ids: list[str]
) -> None:
    runs = await api.finished_runs(acme, run_ids, timeout=120)
    assert [(run.status, run.operations) for run in runs] == [
        (SUCCESS, fan_out_operations(ITEMS))
    ] * RUNS
    listed = await api.runs.ListRuns(
        run_service_pb2.ListRunsRequest(scenario_id=scenario_id, page_size=100),
        metadata=acme.auth(),
    )
    assert sorted(run.id for run in listed.runs) == sorted(run_ids)
    assert all(run.status in FINAL for run in listed.runs)
    for run_id in run_ids:
        steps = await until(
            functools.partial(api.run_log, acme, run_id),
            lambda found: len(found) >= fan_out_operations(ITEMS),
            timeout=30,
            what=f"the log of run {run_id}",
        )
        assert len({(s.module_id, s.task_id, s.attempt) for s in steps}) == len(steps), run_id
        assert len(steps) == fan_out_operations(ITEMS), run_id


async def test_an_executor_killed_mid_run_loses_no_run(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    scenario_id, run_ids = await _start_runs(api, acme)
    await until(
        lambda: _in_flight(cluster, "executor-1"),
        lambda count: count > 0,
        timeout=30,
        what="executor-1 to run tasks",
    )
    cluster.kill("executor-1")
    try:
        await _assert_each_completed_once(api, acme, scenario_id, run_ids)
    finally:
        cluster.start("executor-1")


async def test_an_orchestrator_killed_mid_run_is_replaced_and_loses_no_run(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    scenario_id, run_ids = await _start_runs(api, acme)
    await until(
        lambda: _in_flight(cluster, "executor-1", "executor-2"),
        lambda count: count > 0,
        timeout=30,
        what="the executors to run tasks",
    )
    cluster.kill("orchestrator")
    cluster.start("orchestrator")  # a new process; it takes over once the dead one's session ends
    await _assert_each_completed_once(api, acme, scenario_id, run_ids)
