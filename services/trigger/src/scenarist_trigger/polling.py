"""Polling triggers ("watch new records"): a source returns items newer than a cursor.

Sources are pluggable per app. Every app module polls through the connector gateway
(`GatewayPollSource`, gateway_polling.py, the service's default source); `host.shared[
"trigger.poll_sources"]` ({app name: PollSource}) may put other sources in front of it, such as
`ListPollSource`, an in-process source tests (and demos) feed with items. A failed poll keeps
the cursor and shows its reason as the schedule's `last_error`; a failure that cannot heal by
itself (refused credentials, a wrong connection or module) also pauses the schedule.

Two guards keep an item from being emitted twice: the cursor the source returns, stored in the
same transaction as the RunRequested carrying the items (see scheduler), and a bounded set of
recently emitted item ids for sources whose cursors are coarse (timestamps shared by two rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_MAX_ITEMS = 100
SEEN_BOUND = 1000  # ids remembered per schedule
TEST_APP = "scenarist-test"


class PollError(Exception):
    """The source could not be polled; the message is shown as the schedule's last_error.

    `retry_after`: the app asked for a pause (a rate limit), so no poll before that many seconds.
    `pause`: polling again cannot help until someone fixes the schedule or its connection.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, pause: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.pause = pause


@dataclass(frozen=True)
class PollTarget:
    app: str
    module: str
    inputs: dict[str, Any] = field(default_factory=dict)
    connection_id: str = ""
    max_items: int = DEFAULT_MAX_ITEMS
    org_id: str = ""
    scenario_id: str = ""
    schedule_id: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any], **who: str) -> PollTarget:
        inputs = data.get("inputs")
        return cls(
            app=str(data.get("app", "")),
            module=str(data.get("module", "")),
            inputs=dict(inputs) if isinstance(inputs, dict) else {},
            connection_id=str(data.get("connection_id", "")),
            max_items=int(data.get("max_items") or DEFAULT_MAX_ITEMS),
            **who,
        )


@dataclass(frozen=True)
class PollItem:
    id: str
    bundle: dict[str, Any]


@dataclass(frozen=True)
class PollResult:
    items: list[PollItem]
    cursor: str | None  # where the next poll continues; None keeps the current one


class PollSource(Protocol):
    async def poll(self, target: PollTarget, cursor: str | None) -> PollResult: ...


def fresh_items(result: PollResult, seen: Sequence[str]) -> tuple[list[PollItem], tuple[str, ...]]:
    """The items not emitted before, in the source's order, and the ids to remember. All of them:
    dropping some while the cursor moves past them would lose them."""
    known = set(seen)
    fresh: list[PollItem] = []
    for item in result.items:
        if item.id in known:
            continue
        known.add(item.id)
        fresh.append(item)
    remembered = (*seen, *(item.id for item in fresh))
    return fresh, remembered[-SEEN_BOUND:]


class ListPollSource:
    """Items held in memory, numbered in arrival order; the cursor is the last number returned.
    With `honor_cursor=False` it returns everything every time, like a source whose cursor is
    useless, so only the seen-id guard stands between its items and a second emission."""

    def __init__(self, *, honor_cursor: bool = True) -> None:
        self.items: list[PollItem] = []
        self.honor_cursor = honor_cursor
        self.polls = 0
        self.failure: str | None = None

    def add(self, item_id: str, bundle: dict[str, Any]) -> None:
        self.items.append(PollItem(item_id, bundle))

    async def poll(self, target: PollTarget, cursor: str | None) -> PollResult:
        self.polls += 1
        if self.failure is not None:
            raise PollError(self.failure)
        start = int(cursor) if cursor and self.honor_cursor else 0
        batch = self.items[start : start + target.max_items]
        return PollResult(batch, str(start + len(batch)))
