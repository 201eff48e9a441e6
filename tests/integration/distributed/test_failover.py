"""SIGKILL mid-run: an executor, then the orchestrator. Another instance takes over the
partitions (after the group's session timeout) and every run completes exactly once: final
status SUCCESS, the exact operation count, one run per request and one log step per operation."""

from __future__ import annotations

import asyncio
import functools

import asyncpg  # type: ignore[import-untyped]
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


BIG_ITEMS = 120  # above the 64 tokens and items at which a state is saved as entries (ADR 0008)


async def _stored(dsn: str, run_id: str) -> tuple[str, int]:
    """The run's status and how many state entries Postgres holds for it."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT r.status, (SELECT count(*) FROM orchestrator.run_state_entries e"
            " WHERE e.run_id = r.id) AS entries FROM orchestrator.runs r WHERE r.id = $1::uuid",
            run_id,
        )
    finally:
        await connection.close()
    return (str(row["status"]), int(row["entries"])) if row is not None else ("", 0)


async def test_a_fan_out_saved_as_entries_survives_its_orchestrator(
    cluster: Cluster, api: Api, acme: Tenant
) -> None:
    """Killed while the run's state is a core plus entries (tokens in flight and queued,
    aggregated items): the next orchestrator loads both and ends the run exactly once."""
    scenario_id = await api.create_scenario(acme, fan_out(BIG_ITEMS, 0.2, 16), activate=True)
    run_id = await api.start_run(acme, scenario_id, items_input(BIG_ITEMS))
    await until(
        lambda: _stored(cluster.postgres_dsn, run_id),
        lambda stored: stored[1] > BIG_ITEMS,  # tokens, queued tokens and their bundles at least
        timeout=30,
        what="the run's state to be saved as entries",
    )
    cluster.kill("orchestrator")
    status, entries = await _stored(cluster.postgres_dsn, run_id)
    assert status == "running" and entries > 0  # killed mid-run, its state split
    cluster.start("orchestrator")
    [run] = await api.finished_runs(acme, [run_id], timeout=120)
    assert (run.status, run.operations) == (SUCCESS, fan_out_operations(BIG_ITEMS))
    steps = await until(
        functools.partial(api.run_log, acme, run_id),
        lambda found: len(found) >= fan_out_operations(BIG_ITEMS),
        timeout=30,
        what="the run's log",
    )
    assert len({(s.module_id, s.task_id, s.attempt) for s in steps}) == len(steps)
    assert await _stored(cluster.postgres_dsn, run_id) == ("success", 0)  # finished: none kept
