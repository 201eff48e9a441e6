"""The run result a user reads: status, operations, and every module's bundles."""

from __future__ import annotations

from typing import Any

from scenarist_engine.completion import scenario_retry_plan
from scenarist_engine.machine.plan import Plan
from scenarist_engine.machine.state import ErrorInfo, IncompleteExecution, Operation, RunState


def _error(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"type": error.type, "message": error.message}


def _operation(entry: Operation, confidential: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task": entry.task_id,
        "attempt": entry.attempt,
        "cycle": entry.cycle + 1,
        "started_at": entry.started_at,
        "duration_ms": round((entry.finished_at - entry.started_at) * 1000, 3),
        "error": _error(entry.error),
    }
    if not confidential:
        data["input"] = entry.inputs
        data["output"] = entry.output
    return data


def _incomplete(plan: Plan, item: IncompleteExecution) -> dict[str, Any]:
    retries = scenario_retry_plan(plan.scenario, item)
    return {
        "id": item.id,
        "module_id": item.module_id,
        "error": _error(item.error),
        "attempts": item.attempts,
        "retry_count": item.retry_count,
        "retry_interval_minutes": item.retry_interval_minutes,
        # What the platform would do; this process does not retry (see runner.py).
        "planned_retries": [
            {"attempt": attempt, "after_minutes": retries.offset_minutes(attempt)}
            for attempt in range(1, retries.count + 1)
        ],
    }


def build_run_result(plan: Plan, state: RunState) -> dict[str, Any]:
    """A JSON-ready report of the run; a confidential scenario shows no bundle contents."""
    confidential = plan.scenario.settings.confidential
    modules: dict[int, dict[str, Any]] = {}
    for entry in state.log:
        module = plan.modules[entry.module_id]
        report = modules.setdefault(
            module.id,
            {
                "id": module.id,
                "module": module.module,
                "label": module.label,
                "operations": 0,
                "runs": [],
            },
        )
        report["operations"] += 1 if entry.counted else 0
        report["runs"].append(_operation(entry, confidential))
    finished = state.finished_at
    return {
        "run_id": state.execution.run_id,
        "scenario": plan.scenario.name,
        "status": state.status.value,
        "operations": state.operations,
        "cycles": state.cycle if finished is not None else state.cycle + 1,
        "started_at": state.execution.started_at,
        "duration_ms": None
        if finished is None
        else round((finished - state.execution.started_at) * 1000, 3),
        "error": _error(state.error),
        "response": state.response,
        "modules": list(modules.values()),
        "incomplete": [_incomplete(plan, item) for item in state.incomplete],
    }
