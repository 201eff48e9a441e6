"""The polling-trigger contract: a trigger module reads a cursor and returns bundles plus a new one.

A polling trigger (``ModuleKind.TRIGGER``) is stateless: the trigger service's scheduler keeps
the cursor per scenario and hands it back on the next poll. One call:

* inputs: the module's own fields, plus ``cursor`` (a string, absent or ``""`` on the first poll
  of a scenario), ``limit`` (most bundles this poll) and ``start`` (``"now"``: the first poll
  only records where the source is and emits nothing; ``"all"``: the first poll emits what
  exists, oldest first, up to ``limit``);
* result: exactly one bundle ``{"bundles": [...], "cursor": "..."}`` (see :func:`poll_result`),
  where ``bundles`` are the new items, oldest first, each shaped as the module's ``outputs``, and
  ``cursor`` is the position after the last emitted item. The scheduler stores the new cursor
  only once the bundles are handed on, so a crash re-polls from the old cursor (at least once).

When more than ``limit`` items are new, the cursor stops after the ``limit``-th, so the rest
come on the next poll rather than being skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scenarist_connector_sdk.errors import InvalidInputError
from scenarist_connector_sdk.spec import FieldSpec, FieldType, Option

__all__ = [
    "CURSOR",
    "LIMIT",
    "START",
    "PollResult",
    "poll_fields",
    "poll_limit",
    "poll_result",
    "read_poll_result",
    "starts_now",
]

Bundle = dict[str, Any]

CURSOR = FieldSpec(
    "cursor",
    FieldType.TEXT,
    "Cursor",
    help="Set by the trigger service: the position after the last item already emitted.",
)
LIMIT = FieldSpec("limit", FieldType.INTEGER, "Maximum number of results per poll", default=100)
START = FieldSpec(
    "start",
    FieldType.SELECT,
    "Choose where to start",
    options=(Option("now", "From now on"), Option("all", "All existing items")),
    default="now",
)


def poll_fields(*fields: FieldSpec) -> list[FieldSpec]:
    """A trigger's inputs: its own fields, then cursor, limit and start."""
    return [*fields, CURSOR, LIMIT, START]


def poll_limit(inputs: Mapping[str, Any], cap: int = 1000) -> int:
    """The mapper's ``limit`` clamped to ``1..cap``."""
    value = inputs.get("limit")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return min(100, cap)
    return max(1, min(int(value), cap))


def starts_now(inputs: Mapping[str, Any]) -> bool:
    """True on a first poll that should only record the current position."""
    return not inputs.get("cursor") and str(inputs.get("start") or "now") == "now"


@dataclass(frozen=True)
class PollResult:
    """What one poll produced."""

    bundles: list[Bundle]
    cursor: str


def poll_result(bundles: Iterable[Bundle], cursor: str | int | None) -> list[Bundle]:
    """The single bundle a trigger returns from ``run``."""
    return [{"bundles": list(bundles), "cursor": "" if cursor is None else str(cursor)}]


def read_poll_result(result: Sequence[Mapping[str, Any]]) -> PollResult:
    """For the scheduler: unpack what ``ConnectorRuntime.execute`` returned for a trigger."""
    if len(result) != 1 or not isinstance(result[0].get("bundles"), list):
        raise InvalidInputError("a polling trigger must return one {bundles, cursor} bundle")
    return PollResult(list(result[0]["bundles"]), str(result[0].get("cursor") or ""))
