"""The scenario document, shaped so a Make blueprint maps onto it almost one to one.

A scenario is a `flow`: an ordered list of modules, the first of which is the trigger. A router
ends a flow and carries `routes`, each its own flow. A module may carry a `filter` (on the link
that leads into it), an `onerror` handler flow, and a retry policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """One comparison `a <o> b`; `a` and `b` are IML templates, `o` a Make operator code."""

    a: Any = None
    o: str = Field(description="Make operator code, e.g. text:equal:ci, number:greater, exist")
    b: Any = None


class Filter(_Strict):
    """OR-groups of AND-conditions: the outer list is OR, each inner list is AND."""

    name: str | None = None
    conditions: list[list[Condition]] = Field(default_factory=list)


class RetryPolicy(_Strict):
    """Retry a module on retryable errors (connection, rate limit, timeout) with backoff."""

    max_attempts: int = Field(default=3, ge=1, le=100, description="attempts including the first")
    initial_interval_seconds: float = Field(default=1.0, ge=0, le=86_400)
    multiplier: float = Field(default=2.0, ge=1, le=10)
    max_interval_seconds: float = Field(default=300.0, ge=0, le=86_400)
    jitter: float = Field(default=0.2, ge=0, le=1, description="fraction of the interval")


class Route(_Strict):
    """One route of a router: runs when the filter on its first module passes."""

    label: str | None = None
    fallback: bool = Field(default=False, description="runs only when no other route matched")
    flow: list[Module] = Field(default_factory=list)


class Module(_Strict):
    """One module of a flow. `id` is what expressions refer to: `{{3.email}}`."""

    id: int = Field(ge=1, le=1_000_000)
    module: str = Field(min_length=1, max_length=200, description="kind, e.g. util:SetVariable2")
    version: int = Field(default=1, ge=1)
    label: str | None = Field(default=None, max_length=500)
    parameters: dict[str, Any] = Field(default_factory=dict)
    mapper: dict[str, Any] = Field(default_factory=dict)
    filter: Filter | None = None
    flags: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy | None = None
    onerror: list[Module] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class ScenarioSettings(_Strict):
    """Make's scenario settings (blueprint `metadata.scenario` keys in the aliases)."""

    max_cycles: int = Field(default=1, ge=1, le=10_000, alias="roundtrips")
    max_errors: int = Field(default=3, ge=1, le=1_000, alias="maxErrors")
    sequential: bool = False
    confidential: bool = False
    store_incomplete: bool = Field(default=False, alias="dlq")
    auto_commit: bool = Field(default=True, alias="autoCommit")
    timezone: str = "UTC"
    parallel_bundles: int = Field(
        default=1,
        ge=1,
        le=1_000,
        description="bundles of one module processed at once; 1 is Make's depth-first order",
    )


class Scenario(_Strict):
    """A scenario document: name, settings and the flow (trigger first)."""

    name: str = Field(min_length=1, max_length=500)
    description: str | None = None
    settings: ScenarioSettings = Field(default_factory=ScenarioSettings)
    flow: list[Module] = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def walk(self) -> Iterator[Module]:
        """Every module, depth first, including routes and error handlers."""
        yield from walk_flow(self.flow)

    @property
    def trigger(self) -> Module:
        return self.flow[0]


def walk_flow(flow: list[Module]) -> Iterator[Module]:
    for module in flow:
        yield module
        for route in module.routes:
            yield from walk_flow(route.flow)
        yield from walk_flow(module.onerror)


Route.model_rebuild()
Module.model_rebuild()
