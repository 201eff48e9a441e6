"""The deterministic run state machine. The only place that decides what runs next."""

from __future__ import annotations

from typing import Any

from scenarist_engine.machine.core import Machine
from scenarist_engine.machine.plan import Plan
from scenarist_engine.machine.state import (
    ErrorInfo,
    Execution,
    IncompleteExecution,
    ModuleTask,
    Operation,
    RunState,
    RunStatus,
    TaskResult,
    dump_result,
    dump_state,
    dump_task,
    load_result,
    load_state,
    load_task,
)

__all__ = [
    "ErrorInfo",
    "Execution",
    "IncompleteExecution",
    "ModuleTask",
    "Operation",
    "Plan",
    "RunState",
    "RunStatus",
    "TaskResult",
    "apply_result",
    "dump_result",
    "dump_state",
    "dump_task",
    "load_result",
    "load_state",
    "load_task",
    "start_run",
    "trigger_batches",
]


def trigger_batches(trigger: Any) -> list[list[dict[str, Any]]]:
    """Trigger input as cycles of bundles.

    An object is one bundle in one cycle; a list of objects is one cycle of bundles; a list
    of lists is one cycle per inner list.
    """
    if trigger is None:
        return [[{}]]
    if isinstance(trigger, dict):
        return [[trigger]]
    if isinstance(trigger, list) and all(isinstance(item, list) for item in trigger) and trigger:
        return [[_bundle(item) for item in batch] for batch in trigger]
    if isinstance(trigger, list):
        return [[_bundle(item) for item in trigger]]
    return [[{"value": trigger}]]


def _bundle(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else {"value": item}


def start_run(
    plan: Plan,
    *,
    run_id: str,
    now: float,
    trigger: list[list[dict[str, Any]]] | None = None,
    scenario_id: str = "",
    persistent: dict[str, Any] | None = None,
    resume: IncompleteExecution | None = None,
) -> tuple[RunState, list[ModuleTask]]:
    """A new run: its state and the first tasks to hand to executors."""
    execution = Execution(
        run_id=run_id,
        scenario_id=scenario_id,
        timezone=plan.scenario.settings.timezone,
        started_at=now,
    )
    state = RunState(
        execution=execution,
        trigger_batches=trigger if trigger is not None else [[{}]],
        persistent=dict(persistent or {}),
    )
    tasks = Machine(plan, state, now).start(resume)
    return state, tasks


def apply_result(plan: Plan, state: RunState, result: TaskResult, now: float) -> list[ModuleTask]:
    """Apply one task result to `state` (in place) and return the tasks it makes ready.

    Applying the same result twice changes nothing the second time.
    """
    return Machine(plan, state, now).apply(result)
