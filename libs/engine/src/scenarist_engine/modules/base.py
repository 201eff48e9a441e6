"""What a module kind is: its role in the flow and the pure function that runs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from scenarist_engine.iml.context import EvalContext
from scenarist_engine.model import Module

Bundle = dict[str, Any]


class Role(StrEnum):
    """How the state machine treats a module kind."""

    TRIGGER = "trigger"  # emits the run's trigger bundles
    ACTION = "action"  # one operation per input bundle, emits 0..n bundles
    ROUTER = "router"  # free; runs matching routes in order
    AGGREGATOR = "aggregator"  # collects bundles since its feeder, emits once per group
    DIRECTIVE = "directive"  # error-handler directive; free


@dataclass(frozen=True)
class ModuleCall:
    """One module run on one bundle: its evaluated inputs and what it may read."""

    module: Module
    inputs: Mapping[str, Any]
    variables: Mapping[str, Any]
    persistent: Mapping[str, Any]
    attempt: int
    context: EvalContext


@dataclass
class ModuleOutput:
    """What one operation produced: bundles, and effects the state machine applies."""

    bundles: list[Bundle] = field(default_factory=list)
    set_variables: dict[str, Any] = field(default_factory=dict)
    variable_scope: str = "execution"
    set_persistent: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None
    delay_seconds: float = 0.0


ModuleFunction = Callable[[ModuleCall], ModuleOutput]
AggregateFunction = Callable[[Module, list[Any]], Any]


@dataclass(frozen=True)
class ModuleKind:
    """A kind of module, e.g. `util:SetVariable2`.

    `inline` kinds are pure and cheap: the state machine runs them itself, which keeps variable
    updates ordered and saves a round trip through the executors. Other kinds become tasks.
    """

    name: str
    role: Role
    run: ModuleFunction | None = None
    inline: bool = False
    title: str = ""
    aliases: tuple[str, ...] = ()
    aggregate: AggregateFunction | None = None
