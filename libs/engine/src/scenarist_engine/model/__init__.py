"""The native scenario document: typed models, loading and validation."""

from __future__ import annotations

from scenarist_engine.model.scenario import (
    Condition,
    Filter,
    Module,
    RetryPolicy,
    Route,
    Scenario,
    ScenarioSettings,
)

__all__ = [
    "Condition",
    "Filter",
    "Module",
    "RetryPolicy",
    "Route",
    "Scenario",
    "ScenarioSettings",
]
