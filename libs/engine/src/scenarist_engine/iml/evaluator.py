"""IML interpreter: evaluates a syntax tree against an EvalContext.

Safety rests on what this module does *not* do: values are only ever navigated by dict key
and list index (never getattr), strings coming out of bundles are returned as data (never
parsed), and function names resolve only through the FUNCTIONS table. Every node evaluated
counts one step against `limits.max_steps`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.ast import (
    Call,
    Chain,
    Index,
    Key,
    Literal,
    Logical,
    ModuleRef,
    Negate,
    Node,
    Path,
    Project,
    Segment,
    Variable,
)
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions.registry import FUNCTIONS, FunctionSpec
from scenarist_engine.iml.operators import BINARY_OPERATORS, check_size, negate
from scenarist_engine.iml.values import to_number_or_none, to_text, truthy


def _timestamp(ctx: EvalContext) -> int:
    now = ctx.now if ctx.now.tzinfo is not None else ctx.now.replace(tzinfo=UTC)
    return int(now.timestamp())


# Names whose value depends on the run; a fresh list for emptyarray so callers may mutate it.
VARIABLES: dict[str, Callable[[EvalContext], Any]] = {
    "now": lambda ctx: ctx.now,
    "timestamp": _timestamp,
    "random": lambda ctx: ctx.rng.random(),
    "uuid": lambda ctx: ctx.new_uuid(),
    "executionId": lambda ctx: ctx.execution_id,
    "emptyarray": lambda ctx: [],
}


def rebuilt(
    exc: ExpressionError,
    *,
    position: int | None = None,
    source: str | None = None,
    field: str | None = None,
) -> ExpressionError:
    """A copy of `exc` (same class) with the given details filled in where it had none.

    Raise it `from exc.__cause__ or exc` so the traceback leads to the original failure
    rather than through every layer that added a detail.
    """
    return type(exc)(
        exc.message,
        position=exc.position if exc.position is not None else position,
        source=exc.source if exc.source is not None else source,
        field=exc.field if exc.field is not None else field,
    )


def evaluate(node: Node, ctx: EvalContext) -> Any:
    """The value of `node`."""
    steps = ctx.steps + 1
    ctx.steps = steps
    if steps > ctx.limits.max_steps:
        raise ExpressionLimitError(
            f"evaluation took more than {ctx.limits.max_steps} steps", position=node.pos
        )
    return _EVALUATORS[type(node)](node, ctx)


def _literal(node: Literal, ctx: EvalContext) -> Any:
    return node.value


def _variable(node: Variable, ctx: EvalContext) -> Any:
    getter = VARIABLES.get(node.name)
    if getter is not None:
        return getter(ctx)
    variables = ctx.variables
    return variables.get(node.name) if isinstance(variables, Mapping) else None


def _module_ref(node: ModuleRef, ctx: EvalContext) -> Any:
    return ctx.bundles.get(node.module_id)


def _path(node: Path, ctx: EvalContext) -> Any:
    return _walk(evaluate(node.base, ctx), node.segments, 0, ctx)


def _walk(value: Any, segments: tuple[Segment, ...], start: int, ctx: EvalContext) -> Any:
    for i in range(start, len(segments)):
        if value is None:
            return None
        segment = segments[i]
        if type(segment) is Project:
            if not isinstance(value, list):
                return None
            _charge(ctx, len(value), segment.pos)
            return [_walk(item, segments, i + 1, ctx) for item in value]
        if isinstance(segment, Key):
            value = lookup_key(value, segment.name)
        elif isinstance(segment, Index):
            value = _lookup_index(value, evaluate(segment.expr, ctx))
    return value


def _charge(ctx: EvalContext, steps: int, pos: int) -> None:
    ctx.steps += steps
    if ctx.steps > ctx.limits.max_steps:
        raise ExpressionLimitError(
            f"evaluation took more than {ctx.limits.max_steps} steps", position=pos
        )


def lookup_key(value: Any, name: str) -> Any:
    """`value.name`: a collection's key, or a 1-based position for an array; else null."""
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, list) and name.isascii() and name.isdigit():
        return _item(value, int(name))
    return None


def _lookup_index(value: Any, index: Any) -> Any:
    if isinstance(value, list):
        number = None if isinstance(index, bool) else to_number_or_none(index)
        # inf and NaN are not integers either, so they fall out here too.
        if number is None or (isinstance(number, float) and not number.is_integer()):
            return None
        return _item(value, int(number))
    if isinstance(value, Mapping) and isinstance(index, str | int | float):
        return value.get(to_text(index))
    return None


def _item(items: list[Any], position: int) -> Any:
    return items[position - 1] if 1 <= position <= len(items) else None


@functools.cache
def _load_builtins() -> None:
    # Imported on first need rather than at import time: the function modules import this
    # package's helpers, and a lazy import keeps that cycle harmless.
    importlib.import_module("scenarist_engine.iml.functions")


def resolve_function(name: str) -> FunctionSpec | None:
    spec = FUNCTIONS.get(name)
    if spec is None:
        _load_builtins()
        spec = FUNCTIONS.get(name)
    return spec


def _call(node: Call, ctx: EvalContext) -> Any:
    spec = resolve_function(node.name)
    if spec is None:
        raise ExpressionError(f"unknown function {node.name}()", position=node.pos)
    args = [evaluate(arg, ctx) for arg in node.args]
    try:
        result = spec.call(ctx, args)
    except ExpressionError as exc:
        raise rebuilt(exc, position=node.pos) from exc.__cause__ or exc
    except (RecursionError, MemoryError) as exc:
        raise ExpressionLimitError(
            f"{node.name}(): value is too large or nested too deeply", position=node.pos
        ) from exc
    except Exception as exc:
        # A function's own bug must still reach the user as an expression error, not a crash.
        raise ExpressionError(f"{node.name}(): {exc}", position=node.pos) from exc
    return check_size(result, ctx.limits, node.pos)


def _negate(node: Negate, ctx: EvalContext) -> Any:
    value = evaluate(node.operand, ctx)
    try:
        return negate(value)
    except ExpressionError as exc:
        raise rebuilt(exc, position=node.pos) from exc.__cause__ or exc


def _chain(node: Chain, ctx: EvalContext) -> Any:
    left = evaluate(node.first, ctx)
    for link in node.links:
        right = evaluate(link.operand, ctx)
        try:
            left = BINARY_OPERATORS[link.op](left, right, ctx.limits)
        except ExpressionError as exc:
            raise rebuilt(exc, position=link.pos) from exc.__cause__ or exc
    return left


def _logical(node: Logical, ctx: EvalContext) -> bool:
    # Short-circuits like JavaScript; the result is always a boolean, never an operand.
    if node.op == "&":
        return all(truthy(evaluate(operand, ctx)) for operand in node.operands)
    return any(truthy(evaluate(operand, ctx)) for operand in node.operands)


_EVALUATORS: dict[type[Node], Callable[[Any, EvalContext], Any]] = {
    Literal: _literal,
    Variable: _variable,
    ModuleRef: _module_ref,
    Path: _path,
    Call: _call,
    Negate: _negate,
    Chain: _chain,
    Logical: _logical,
}
