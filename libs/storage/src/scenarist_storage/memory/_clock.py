from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    # Postgres keeps microseconds; so do we, so both implementations compare alike.
    return datetime.now(UTC)


def clone(value: T) -> T:
    return copy.deepcopy(value)
