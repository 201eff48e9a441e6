"""The one table of IML functions. Each function is registered once, where it is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.context import EvalContext

FunctionImpl = Callable[..., Any]


@dataclass(frozen=True)
class FunctionSpec:
    """A built-in function: how to call it, how many arguments it takes, how to show it."""

    name: str
    impl: FunctionImpl
    min_args: int
    max_args: int | None
    signature: str
    category: str
    description: str

    def call(self, ctx: EvalContext, args: list[Any]) -> Any:
        if len(args) < self.min_args or (self.max_args is not None and len(args) > self.max_args):
            expected = (
                f"{self.min_args}"
                if self.max_args == self.min_args
                else f"{self.min_args}..{self.max_args if self.max_args is not None else 'n'}"
            )
            raise ExpressionError(
                f"function {self.name}() takes {expected} arguments, got {len(args)}"
            )
        return self.impl(ctx, *args)


FUNCTIONS: dict[str, FunctionSpec] = {}


def iml_function(
    name: str,
    *,
    min_args: int,
    max_args: int | None,
    signature: str,
    category: str,
    description: str = "",
) -> Callable[[FunctionImpl], FunctionImpl]:
    """Register `impl(ctx, *args)` as the IML function `name`."""

    def register(impl: FunctionImpl) -> FunctionImpl:
        if name in FUNCTIONS:
            raise ValueError(f"IML function {name!r} registered twice")
        FUNCTIONS[name] = FunctionSpec(
            name=name,
            impl=impl,
            min_args=min_args,
            max_args=max_args,
            signature=signature,
            category=category,
            description=description or _first_line(impl.__doc__),
        )
        return impl

    return register


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def lookup(name: str) -> FunctionSpec:
    """The function called `name`, or an ExpressionError for an unknown name."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise ExpressionError(f"unknown function {name}()")
    return spec
