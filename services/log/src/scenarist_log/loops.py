"""The log service's consumer loops: fetch a batch, write it in one store call, then commit.

Commit follows the database write (at-least-once): a crash between the two redelivers the batch,
which the stores absorb (steps are keyed by (run_id, task_id, attempt); a summary never goes
back in time). A failed write is retried with backoff without committing, so nothing is skipped
while Postgres is away; undecodable records go to the DLQ and are committed with their batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from scenarist_bus import topics
from scenarist_bus.consuming import commit_or_hand_back
from scenarist_bus.dlq import decode_batch_or_dead_letter
from scenarist_bus.instrument import process_spans
from scenarist_bus.lag import LagReporter
from scenarist_bus.port import Bus, Consumer, Producer, Record
from scenarist_observability.metrics import METRICS
from scenarist_storage.models import RunSummary, StepRecord
from scenarist_storage.ports import LogStore

from scenarist_log.convert import collapse, decode_run_event, decode_steps

log = logging.getLogger(__name__)

GROUP = "scenarist-log"
SERVICE = "log"
T = TypeVar("T")


class BatchLoop(Generic[T]):
    """One consumer of `topic` in the log group, handing decoded batches to `write`."""

    def __init__(
        self,
        bus: Bus,
        topic: str,
        decode: Callable[[Record], T],
        write: Callable[[list[T]], Awaitable[object]],
        *,
        batch_size: int = 500,
        poll_ms: int = 200,
        retry_seconds: float = 1.0,
        linger_ms: int = 20,
    ) -> None:
        self._bus = bus
        self.topic = topic
        self._decode = decode
        self._write = write
        self._batch_size = batch_size
        self._poll_ms = poll_ms
        self._retry_seconds = retry_seconds
        self._linger_seconds = linger_ms / 1000
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._lag: LagReporter | None = None

    async def start(self) -> None:
        self._producer = await self._bus.producer()
        self._consumer = self._bus.consumer(GROUP, (self.topic,), max_poll_records=self._batch_size)
        await self._consumer.start()
        self._lag = LagReporter(self._consumer)

    async def run_once(self, stopping: asyncio.Event | None = None) -> int:
        """One batch; returns how many records it consumed (0 if it gave up on stop)."""
        assert self._consumer is not None and self._producer is not None
        records = await self._consumer.getmany(self._poll_ms, self._batch_size)
        if self._lag is not None:
            await self._lag.maybe_report()
        if not records:
            return 0
        METRICS.bus_messages_consumed.labels(self.topic).inc(len(records))
        METRICS.bus_batch_size.labels(self.topic).observe(len(records))
        with process_spans(records, GROUP):  # each run's trace ends in its log records
            decoded = await decode_batch_or_dead_letter(self._producer, records, self._decode)
            if decoded.dead_lettered:
                METRICS.dlq_messages.labels(self.topic, "undecodable").inc(
                    len(decoded.dead_lettered)
                )
            values = [value for _, value in decoded.ok]
            if values and not await self._write_until_done(values, stopping):
                return 0
        await commit_or_hand_back(self._consumer, records)
        return len(records)

    async def _write_until_done(self, values: list[T], stopping: asyncio.Event | None) -> bool:
        while True:
            try:
                with METRICS.db_transaction_duration.labels(SERVICE).time():
                    await self._write(values)
                return True
            except Exception:  # the store is unreachable or failed: keep the batch, retry
                log.exception("writing a %s batch failed; retrying", self.topic)
            if stopping is None:
                raise RuntimeError(f"writing a {self.topic} batch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._retry_seconds)
            if stopping.is_set():
                return False  # uncommitted: the next owner of the partitions re-reads it

    async def run(self, stopping: asyncio.Event) -> None:
        await self.start()
        try:
            while not stopping.is_set():
                consumed = await self.run_once(stopping)
                if 0 < consumed < self._batch_size and self._linger_seconds > 0:
                    await self._linger(stopping)
        finally:
            await self.stop()

    async def _linger(self, stopping: asyncio.Event) -> None:
        """After a partial batch, let the next one fill for a moment. The history is not on any
        run's path, and in standalone mode this loop shares the event loop with the runs: one
        write of a few runs' steps costs about what one run's write cost, and a loop woken by
        every run's messages delayed each webhook's answer (0.5 ms of 4 at concurrency 1)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), self._linger_seconds)

    async def stop(self) -> None:
        if self._lag is not None:
            self._lag.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def steps_loop(bus: Bus, logs: LogStore, *, poll_ms: int = 200) -> BatchLoop[list[StepRecord]]:
    async def write(batches: list[list[StepRecord]]) -> object:
        return await logs.append_steps([step for steps in batches for step in steps])

    return BatchLoop(bus, topics.LOGS_STEPS, decode_steps, write, poll_ms=poll_ms)


def events_loop(bus: Bus, logs: LogStore, *, poll_ms: int = 200) -> BatchLoop[RunSummary]:
    async def write(summaries: list[RunSummary]) -> None:
        await logs.upsert_run_summaries(collapse(summaries))

    return BatchLoop(bus, topics.RUNS_EVENTS, decode_run_event, write, poll_ms=poll_ms)
