"""The orchestrator's run metrics, counted once a batch's state write is accepted.

A fenced-off writer counts nothing: a run counts what happened since its last accepted write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarist_engine.machine import RunStatus
from scenarist_observability.metrics import METRICS

if TYPE_CHECKING:
    from scenarist_orchestrator.live_run import LiveRun


def count_saved(live: LiveRun) -> None:
    """Metrics of what an accepted state write made true (a handful of increments per run)."""
    state = live.state
    if live.unsaved_start:
        METRICS.runs_started.labels(live.source).inc()
    if live.unsaved_tasks:
        METRICS.tasks_dispatched.inc(live.unsaved_tasks)
    if live.unsaved_retries:
        # Tasks the machine scheduled again (attempt > 1) after a module error.
        METRICS.task_retries.inc(live.unsaved_retries)
    if state.operations > live.saved_operations:
        METRICS.operations.inc(state.operations - live.saved_operations)
    if live.cancelled or state.status is not RunStatus.RUNNING:
        METRICS.runs_finished.labels(live.status).inc()
        if state.finished_at is not None:
            METRICS.run_duration.observe(max(0.0, state.finished_at - state.execution.started_at))
    live.unsaved_start, live.unsaved_tasks, live.unsaved_retries = False, 0, 0
    live.saved_operations = state.operations
