"""A run an orchestrator is driving, as it keeps it in memory between batches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from scenarist_engine.machine import Plan, RunState
from scenarist_engine.machine.state_entries import StateSaver
from scenarist_storage.models import NewRun, OutboxMessage

from scenarist_orchestrator import claimed

CANCELLED = "cancelled"


@dataclass
class LiveRun:
    """A run this orchestrator is driving."""

    org_id: uuid.UUID
    scenario_id: uuid.UUID
    version: int
    plan: Plan
    state: RunState
    reply_to: str = ""
    responded: bool = False
    outbox: list[OutboxMessage] = field(default_factory=list)
    # Messages whose bodies go by claim check, stored just before the batch is saved.
    pending: claimed.Pending = field(default_factory=list)
    # Step logs since the last save: sent together (messages.steps_messages) when it is saved.
    steps: claimed.Steps = field(default_factory=list)
    started: bool = False
    cancelled: bool = False
    source: str = "api"
    # Metrics are counted once the batch's state write is accepted, so a fenced-off writer
    # counts nothing: what happened since the last accepted write of this run.
    unsaved_start: bool = False
    unsaved_tasks: int = 0
    unsaved_retries: int = 0
    saved_operations: int = 0
    trace: dict[str, str] = field(default_factory=dict)  # W3C context of the run (run_trace.py)
    saver: StateSaver = field(default_factory=StateSaver)  # what the store holds of the state
    # Not stored yet: its first save inserts the run (StateWrite.create).
    create: NewRun | None = None

    @property
    def status(self) -> str:
        return CANCELLED if self.cancelled else self.state.status.value
