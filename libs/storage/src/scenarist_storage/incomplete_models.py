"""What happened to a run's incomplete executions (parked bundles): retried or resolved.

The parked bundles themselves live in the run's engine state (`RunState.incomplete`); the
orchestrator's RunService records here only how each one was closed, once, so two people
pressing "retry" at the same time start one run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CLOSURE_RETRIED = "retried"
CLOSURE_RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IncompleteClosure:
    org_id: uuid.UUID
    incomplete_id: str  # the engine's IncompleteExecution.id, "<run_id>/<task id>"
    run_id: uuid.UUID  # the run that parked it
    status: str  # CLOSURE_RETRIED or CLOSURE_RESOLVED
    retry_run_id: uuid.UUID | None  # set when retried
    closed_at: datetime


class IncompleteStore(Protocol):
    async def close(
        self,
        org_id: uuid.UUID,
        incomplete_id: str,
        run_id: uuid.UUID,
        status: str,
        retry_run_id: uuid.UUID | None = None,
    ) -> tuple[IncompleteClosure, bool]:
        """Record a closure unless one exists: (the stored closure, whether this call made it)."""
        ...

    async def closures(
        self, org_id: uuid.UUID, run_ids: list[uuid.UUID]
    ) -> dict[str, IncompleteClosure]:
        """Closures of these runs' incomplete executions, by incomplete id."""
        ...
