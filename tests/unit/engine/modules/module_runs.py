"""Run small scenarios through the in-process runner and read them the way a Make user does.

Shared by the module-family tests next to it (imported by name, like storage_contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarist_engine.machine.state import RunState
from scenarist_engine.model.loading import scenario_from_data
from scenarist_engine.model.validate import validate_or_raise
from scenarist_engine.modules import BUILTIN_KINDS
from scenarist_engine.runner import VirtualClock, run_scenario


@dataclass
class Outcome:
    """One finished run: the user-facing result plus the state and clock behind it."""

    result: dict[str, Any]
    state: RunState
    clock: VirtualClock

    @property
    def status(self) -> str:
        return str(self.result["status"])

    @property
    def operations(self) -> int:
        return int(self.result["operations"])

    @property
    def error_type(self) -> str | None:
        error = self.result["error"]
        return None if error is None else str(error["type"])

    @property
    def response(self) -> dict[str, Any] | None:
        response: dict[str, Any] | None = self.result["response"]
        return response

    def _module(self, module_id: int) -> dict[str, Any] | None:
        return next((m for m in self.result["modules"] if m["id"] == module_id), None)

    def outputs(self, module_id: int) -> list[Any]:
        """Every bundle the module output, over all its operations, in log order."""
        module = self._module(module_id)
        if module is None:
            return []
        return [bundle for run in module["runs"] if run["output"] for bundle in run["output"]]

    def ops(self, module_id: int) -> int:
        """Operations the module consumed (0 if it never ran)."""
        module = self._module(module_id)
        return 0 if module is None else int(module["operations"])

    def errors(self, module_id: int) -> list[str]:
        module = self._module(module_id)
        runs = [] if module is None else module["runs"]
        return [run["error"]["type"] for run in runs if run["error"]]

    @property
    def order(self) -> list[int]:
        """Module ids in the order they first ran."""
        return [m["id"] for m in self.result["modules"]]


def run_flow(
    flow: list[dict[str, Any]],
    trigger: Any = None,
    *,
    settings: dict[str, Any] | None = None,
    persistent: dict[str, Any] | None = None,
) -> Outcome:
    document: dict[str, Any] = {"name": "module test", "flow": flow}
    if settings:
        document["settings"] = settings
    # Validating first keeps these tests honest: every scenario here is one a user could save.
    scenario = validate_or_raise(scenario_from_data(document), known_modules=set(BUILTIN_KINDS))
    clock = VirtualClock()
    run = run_scenario(scenario, trigger, clock=clock, run_id="run-1", persistent=persistent)
    return Outcome(run.result(), run.state, clock)
