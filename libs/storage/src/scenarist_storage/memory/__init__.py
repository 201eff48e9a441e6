"""In-process stores with the same semantics as the Postgres ones (org scoping, idempotency,
fencing, paging), for standalone mode and fast tests. Each method does all its work without
awaiting, so under asyncio it is atomic like a Postgres transaction. Records are copied in and
out, so callers can never mutate stored state by accident."""

from __future__ import annotations

from scenarist_storage.memory.identity import MemoryIdentityStore
from scenarist_storage.memory.logs import MemoryLogStore
from scenarist_storage.memory.runs import MemoryRunStore
from scenarist_storage.memory.scenarios import MemoryScenarioStore

__all__ = ["MemoryIdentityStore", "MemoryLogStore", "MemoryRunStore", "MemoryScenarioStore"]
