"""Running one module on one bundle: the same code inside the state machine and in executors."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scenarist_engine.errors import ErrorType, ExpressionError, ModuleError
from scenarist_engine.iml import evaluate_mapping
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.values import to_json_compatible
from scenarist_engine.machine.state import ErrorInfo, ModuleTask, TaskResult
from scenarist_engine.model import Module
from scenarist_engine.modules import ModuleCall, ModuleKind, ModuleOutput


def eval_context(task: ModuleTask) -> EvalContext:
    """The expression context of a task; everything in it derives from the task alone."""
    seed_text = f"{task.run_id}/{task.task_id}/{task.attempt}".encode()
    return EvalContext(
        bundles=task.path,
        variables=task.variables,
        now=datetime.fromtimestamp(task.now, tz=UTC),
        execution_id=task.run_id,
        timezone=task.execution.timezone,
        seed=int.from_bytes(hashlib.sha256(seed_text).digest()[:8], "big"),
    )


def run_module(
    kind: ModuleKind,
    module: Module,
    task: ModuleTask,
    clock: Callable[[], float] = time.time,
) -> tuple[TaskResult, float]:
    """Evaluate the module's mapper on the task's bundle path and run the kind.

    Returns the result and how long the caller must wait before reporting it (Sleep).
    Module failures become results with an error; they never escape as exceptions.
    """
    started = clock()
    result = TaskResult(run_id=task.run_id, task_id=task.task_id, attempt=task.attempt)
    try:
        inputs, output = _call(kind, module, task)
    except ModuleError as exc:
        result.error = ErrorInfo(exc.error_type.value, exc.message, exc.retry_after)
        result.started_at, result.finished_at = started, clock()
        return result, 0.0
    result.inputs = to_json_compatible(inputs)
    result.bundles = [to_json_compatible(bundle) for bundle in output.bundles]
    result.set_variables = to_json_compatible(output.set_variables)
    result.variable_scope = output.variable_scope
    result.set_persistent = to_json_compatible(output.set_persistent)
    result.response = to_json_compatible(output.response)
    result.started_at, result.finished_at = started, clock()
    return result, output.delay_seconds


def _call(
    kind: ModuleKind, module: Module, task: ModuleTask
) -> tuple[dict[str, Any], ModuleOutput]:
    if kind.run is None:
        raise ModuleError(f"module kind {kind.name} cannot run as a task", ErrorType.RUNTIME)
    context = eval_context(task)
    try:
        inputs = evaluate_mapping(module.mapper, context, field="mapper")
    except ExpressionError as exc:
        raise ModuleError(str(exc), ErrorType.DATA) from exc
    call = ModuleCall(
        module=module,
        inputs=inputs,
        variables=task.variables,
        persistent=task.persistent,
        attempt=task.attempt,
        context=context,
    )
    try:
        return inputs, kind.run(call)
    except ModuleError:
        raise
    except ExpressionError as exc:
        raise ModuleError(str(exc), ErrorType.DATA) from exc
    except Exception as exc:  # a bug in a module must fail the module, not the run loop
        raise ModuleError(f"{type(exc).__name__}: {exc}", ErrorType.RUNTIME) from exc
