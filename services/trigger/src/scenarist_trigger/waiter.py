"""Callers waiting for their run's answer: one runs.events consumer per process resolves them.

Every trigger replica joins its own, unique consumer group, so each sees every event and picks
those whose reply_to it registered. The group starts at the events of the last minute (clock
skew), not at the topic's earliest: none of the older ones can match, reply_to values being
fresh UUIDs, and a restart read the topic's whole retention (workload 4 restarts the services
per point: up to a core-second of the trigger's CPU, and in production hours of events).
Events older than that are still skipped by timestamp before decoding.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist_bus import envelope, topics
from scenarist_bus.envelope import DecodeError
from scenarist_bus.port import Bus, BusError, Consumer, Record

log = logging.getLogger(__name__)

# QUEUED answers at once too: the scenario is inactive, the run waits for its activation.
_ENDS = (
    RunEventType.RUN_EVENT_TYPE_FINISHED,
    RunEventType.RUN_EVENT_TYPE_CANCELLED,
    RunEventType.RUN_EVENT_TYPE_QUEUED,
)
_SKEW_MS = 60_000  # clock skew allowed between producers and this process


class ResponseWaiter:
    def __init__(self, bus: Bus, *, group_prefix: str = "scenarist-trigger-replies") -> None:
        self._bus = bus
        self._group = f"{group_prefix}-{uuid.uuid4().hex}"
        self._waiting: dict[str, asyncio.Future[RunEvent]] = {}
        self._consumer: Consumer | None = None
        self._commit: asyncio.Task[None] | None = None
        self._since_ms = int(time.time() * 1000) - _SKEW_MS

    async def start(self) -> None:
        self._consumer = self._bus.consumer(
            self._group, [topics.RUNS_EVENTS], start_from_ms=self._since_ms
        )
        await self._consumer.start()

    def register(self, reply_to: str) -> asyncio.Future[RunEvent]:
        future: asyncio.Future[RunEvent] = asyncio.get_running_loop().create_future()
        self._waiting[reply_to] = future
        return future

    def discard(self, reply_to: str) -> None:
        future = self._waiting.pop(reply_to, None)
        if future is not None and not future.done():
            future.cancel()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def run(self, stopping: asyncio.Event) -> None:
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("ResponseWaiter.run before start")
        try:
            while not stopping.is_set():
                try:
                    records = await consumer.getmany(timeout_ms=500)
                except BusError:
                    log.exception("reading run events failed; retrying")
                    await asyncio.sleep(1.0)
                    continue
                for record in records:
                    self._offer(record)
                if records:
                    self._commit_later(consumer, records)
        finally:
            if self._commit is not None:
                await asyncio.gather(self._commit, return_exceptions=True)
            await consumer.stop()
            for reply_to in list(self._waiting):
                self.discard(reply_to)

    def _commit_later(self, consumer: Consumer, records: list[Record]) -> None:
        """Committing only lets the in-process bus trim what every group has read (this group
        is new in every process): it must not hold up the next replies. One commit at a time,
        so they land in order; records read meanwhile are committed with a later batch."""
        if self._commit is not None and not self._commit.done():
            return
        self._commit = asyncio.create_task(consumer.commit(records))
        self._commit.add_done_callback(_log_failure)

    def _offer(self, record: Record) -> None:
        if record.timestamp_ms < self._since_ms or not self._waiting:
            return
        try:
            decoded = envelope.unwrap(record, accept=frozenset({envelope.RUN_EVENT}))
            event = envelope.payload_as(decoded, RunEvent)
        except DecodeError:
            return  # not ours to dead-letter: the log service owns this topic's hygiene
        if not event.reply_to or (not event.result and event.type not in _ENDS):
            return
        future = self._waiting.pop(event.reply_to, None)
        if future is not None and not future.done():
            future.set_result(event)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("committing read run events failed", exc_info=task.exception())
