"""The parked bundle a retry run resumes from, read from the stored state of the run that parked
it (RunRequested.resume names it; no bundle travels through Kafka)."""

from __future__ import annotations

import uuid

from pydantic import TypeAdapter, ValidationError
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_engine.machine import IncompleteExecution
from scenarist_storage.ports import RunStore

_PARKED = TypeAdapter(IncompleteExecution)


async def parked_execution(
    runs: RunStore, org_id: uuid.UUID, request: RunRequested
) -> IncompleteExecution | None:
    """The incomplete execution `request` resumes, None for a normal run; ValueError when it
    names one that does not exist (the request then goes to the dead-letter topic)."""
    if not request.HasField("resume"):
        return None
    ref = request.resume
    record = await runs.get(org_id, uuid.UUID(ref.run_id))
    if record is None or str(record.scenario_id) != request.scenario_id:
        raise ValueError(f"run {ref.run_id} of this scenario not found")
    for item in (record.state or {}).get("incomplete") or []:
        if isinstance(item, dict) and item.get("id") == ref.incomplete_execution_id:
            try:
                return _PARKED.validate_python(item)
            except ValidationError as exc:
                raise ValueError(f"unreadable incomplete execution: {exc}") from None
    raise ValueError(f"incomplete execution {ref.incomplete_execution_id!r} not found")
