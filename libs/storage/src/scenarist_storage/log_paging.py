"""Page-token keys and batch checks of the execution history, shared by the Postgres and
in-memory log stores."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.models import RunSummary
from scenarist_storage.paging import token_int, token_uuid


def token_time(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidPageTokenError("malformed page token") from exc
    if parsed.tzinfo is None:
        raise InvalidPageTokenError("malformed page token")
    return parsed


def step_key(key: list[Any]) -> tuple[datetime, str, int]:
    """(started_at, task_id, attempt) of the last step of the previous page."""
    return token_time(key[0]), str(key[1]), token_int(key[2])


def summary_key(key: list[Any]) -> tuple[datetime, uuid.UUID]:
    """(started_at, run_id) of the last summary of the previous page."""
    return token_time(key[0]), token_uuid(key[1])


def check_one_per_run(batch: Sequence[RunSummary]) -> None:
    """A batch upsert names each run once: two rows for one run in one statement would make
    Postgres refuse the whole batch (ON CONFLICT cannot touch a row twice)."""
    seen = {summary.run_id for summary in batch}
    if len(seen) != len(batch):
        raise ValueError("a run appears more than once in one batch of summaries")
