"""The in-process runner: the state machine plus a local task loop, no services needed.

The CLI and standalone mode use it; the distributed runtime replaces the loop with Kafka and
executors but keeps the same machine, so a scenario behaves the same everywhere.

Automatic completion of incomplete executions (Break with "automatically complete execution",
or stored ConnectionError/RateLimitError failures) is not done here: it runs minutes to days
after the run, so it needs the platform, where the orchestrator's automatic-completion loop keeps
the schedule in Postgres. A run of this runner ends with its bundles parked in
`RunState.incomplete`, and its result lists each one's planned retries (`planned_retries`,
scenarist_engine.completion) so `scenarist run` shows what the platform would do.
"""

from __future__ import annotations

import heapq
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from scenarist_engine.errors import ScenaristError
from scenarist_engine.machine import Plan, RunState, apply_result, start_run, trigger_batches
from scenarist_engine.machine.execution import run_module
from scenarist_engine.machine.state import IncompleteExecution, ModuleTask
from scenarist_engine.model import Scenario
from scenarist_engine.modules import ModuleKind
from scenarist_engine.result import build_run_result


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class VirtualClock:
    """A clock that jumps instead of waiting: retries and sleeps cost no real time."""

    current: float = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self.current += seconds


@dataclass
class Run:
    plan: Plan
    state: RunState

    def result(self) -> dict[str, Any]:
        return build_run_result(self.plan, self.state)


class TaskLimitExceededError(ScenaristError):
    """A run produced more tasks than the runner allows (a runaway scenario)."""


def run_scenario(
    scenario: Scenario,
    trigger: Any = None,
    *,
    clock: Clock | None = None,
    external: dict[str, ModuleKind] | None = None,
    run_id: str | None = None,
    persistent: dict[str, Any] | None = None,
    resume: IncompleteExecution | None = None,
    max_tasks: int = 1_000_000,
) -> Run:
    """Run a scenario to the end in this process and return its state."""
    clock = clock or RealClock()
    plan = Plan.build(scenario, external)
    state, tasks = start_run(
        plan,
        run_id=run_id or str(uuid.uuid4()),
        now=clock.now(),
        trigger=trigger_batches(trigger),
        persistent=persistent,
        resume=resume,
    )
    _drive(plan, state, tasks, clock, max_tasks)
    return Run(plan, state)


def _drive(
    plan: Plan, state: RunState, tasks: list[ModuleTask], clock: Clock, max_tasks: int
) -> None:
    order = itertools.count()
    queue = [(task.not_before, next(order), task) for task in tasks]
    heapq.heapify(queue)
    executed = 0
    while queue:
        not_before, _, task = heapq.heappop(queue)
        executed += 1
        if executed > max_tasks:
            raise TaskLimitExceededError(f"run {state.execution.run_id} exceeded {max_tasks} tasks")
        clock.sleep(not_before - clock.now())
        module = plan.modules[task.module_id]
        result, delay = run_module(plan.kinds[task.module_id], module, task, clock.now)
        clock.sleep(delay)
        result.finished_at = clock.now()
        for follow_up in apply_result(plan, state, result, clock.now()):
            heapq.heappush(queue, (follow_up.not_before, next(order), follow_up))
