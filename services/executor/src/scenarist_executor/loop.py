"""The executor's consumer loop: fetch tasks, run them, produce results, then commit.

`run` keeps up to `batch_size` tasks in flight and starts the next one as soon as one ends (a
window, not batches: a batch waited for its slowest call before fetching more, so an executor
waiting on 50 ms calls did one call per ~70 ms per slot). Offsets are committed per partition up
to the first task not done, so a crash re-delivers only what was not finished. Results and
commits leave from one background task (see `_flush_soon`).
`run_once` runs one batch to its end (tests and tools step the loop with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from scenarist_bus import topics
from scenarist_bus.consuming import commit_or_hand_back
from scenarist_bus.dlq import dead_letter
from scenarist_bus.lag import LagReporter
from scenarist_bus.port import Bus, Consumer, Producer, Record, TopicPartition
from scenarist_observability.metrics import METRICS

from scenarist_executor.worker import BatchOutput, TaskWorker

GROUP = "scenarist-executor"
DRAIN_SECONDS = 10.0  # on stop, how long running tasks may take to finish (then cancelled)
# How often done tasks are committed while the window runs: a crash re-delivers at most this
# much more (tasks are idempotent by key), and the broker gets a commit per interval, not per task.
COMMIT_SECONDS = 0.1
GATHER_MS = 5

log = logging.getLogger(__name__)


class ExecutorLoop:
    def __init__(
        self,
        bus: Bus,
        worker: TaskWorker,
        *,
        batch_size: int = 64,
        poll_ms: int = 50,
        gather_ms: int = GATHER_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._worker = worker
        self._batch_size = batch_size
        self._poll_ms = poll_ms
        self._gather_s = gather_ms / 1000
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._lag: LagReporter | None = None
        # Per partition, the offsets fetched and not yet committed, in order, and whether each
        # task has ended; the records of ended tasks whose offsets may be committed next.
        self._inflight: dict[TopicPartition, dict[int, Record | None]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None
        self._ended: list[tuple[Record, BatchOutput]] = []  # run, result not yet published
        self._flushing: asyncio.Task[None] | None = None
        self._clock = clock
        self._committed_at = clock()
        self._done_uncommitted = False

    async def start(self) -> None:
        self._producer = await self._bus.producer()
        self._consumer = self._bus.consumer(
            GROUP,
            (topics.TASKS_MODULE,),
            max_poll_records=self._batch_size,
            on_revoked=self._revoked,
        )
        await self._consumer.start()
        self._lag = LagReporter(self._consumer)

    async def run_once(self) -> int:
        assert self._consumer is not None and self._producer is not None
        records = await self._consumer.getmany(self._poll_ms, self._batch_size)
        if self._lag is not None:
            await self._lag.maybe_report()
        if not records:
            return 0
        METRICS.bus_messages_consumed.labels(topics.TASKS_MODULE).inc(len(records))
        METRICS.bus_batch_size.labels(topics.TASKS_MODULE).observe(len(records))
        await self._publish(await self._worker.handle(records, consumer_group=GROUP))
        await commit_or_hand_back(self._consumer, records)
        return len(records)

    async def _publish(self, output: BatchOutput) -> None:
        assert self._producer is not None
        for record, reason in output.dead_letters:
            await dead_letter(self._producer, record, reason, error_type="invalid_message")
            METRICS.dlq_messages.labels(record.topic, "invalid_message").inc()
        if output.results:
            await self._producer.send_batch(output.results)  # counted by the producer

    async def run(self, stopping: asyncio.Event) -> None:
        await self.start()
        try:
            while not stopping.is_set():
                await self.fill_window()
        finally:
            await self._drain()
            await self.stop()

    async def fill_window(self) -> int:
        """Start tasks for the free slots (waiting up to the poll interval for tasks or for a
        slot); returns how many tasks it started."""
        assert self._consumer is not None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure  # producing a result failed: the loop fails as a batch would
        free = self._batch_size - len(self._running)
        records: list[Record] = []
        if free > 0:
            records = await self._consumer.getmany(self._poll_ms, free)
        else:
            await asyncio.wait(
                self._running, timeout=self._poll_ms / 1000, return_when=asyncio.FIRST_COMPLETED
            )
        if self._lag is not None:
            await self._lag.maybe_report()
        if records:
            METRICS.bus_messages_consumed.labels(topics.TASKS_MODULE).inc(len(records))
            METRICS.bus_batch_size.labels(topics.TASKS_MODULE).observe(len(records))
        for record in records:
            self._inflight.setdefault(record.tp, {})[record.offset] = None
            task = asyncio.create_task(self._run_one(record))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        self._flush_soon()
        return len(records)

    async def _run_one(self, record: Record) -> None:
        try:
            output = await self._worker.handle([record], consumer_group=GROUP)
        except Exception as exc:  # uncommitted: re-delivered after the loop restarts
            log.exception("running a task failed")
            self._failure = self._failure or exc
            return
        self._ended.append((record, output))
        self._flush_soon()

    def _flush_soon(self) -> None:
        """Publish ended tasks' results, and commit, from one background task: results that
        end while a send is in flight go together in the next, and commits go at most every
        COMMIT_SECONDS. Sent and committed one by one, each result and each commit was a
        broker request of its own (workload 4: the broker's CPU went to them)."""
        if self._flushing is not None and not self._flushing.done():
            return
        if self._ended or self._commit_due():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        # Until nothing is left: a result that ends during the commit must not wait for the
        # next poll (up to poll_ms) to leave.
        while self._ended or self._commit_due():
            if self._ended:
                await self._gather()
            while self._ended:
                ended, self._ended = self._ended, []
                try:
                    await self._publish(_merged(output for _, output in ended))
                except Exception as exc:  # uncommitted: re-delivered after the loop restarts
                    log.exception("publishing task results failed")
                    self._failure = self._failure or exc
                    return
                for record, _ in ended:
                    pending = self._inflight.get(record.tp)
                    if pending is not None and record.offset in pending:
                        pending[record.offset] = record
                        self._done_uncommitted = True
            if self._commit_due():
                await self._commit_done()

    async def _gather(self) -> None:
        """Let the tasks running beside an ended one end too, for up to gather_ms, so their
        results leave in one produce: a fan-out's calls end together (workload 4: a wave of
        calls answered after the same 50 ms), and sent as each ended they were a broker request
        per two or three results. Tasks started meanwhile are not waited for, and one running
        alone (a sequential scenario's next step) is not delayed at all."""
        if self._gather_s <= 0:
            return
        beside = [task for task in self._running if not task.done()]
        if beside:
            await asyncio.wait(beside, timeout=self._gather_s)

    def _commit_due(self) -> bool:
        return self._done_uncommitted and self._clock() - self._committed_at >= COMMIT_SECONDS

    async def _commit_done(self, only: frozenset[TopicPartition] | None = None) -> None:
        """Commit each partition up to its first task not yet done (result published)."""
        assert self._consumer is not None
        self._committed_at = self._clock()
        if only is None:  # a revoke commits its own partitions; the others still wait
            self._done_uncommitted = False
        ended = self._take_done(only)
        if ended:
            await commit_or_hand_back(self._consumer, ended)

    async def flush(self) -> None:
        """Publish and commit now what is done (the background flush ends first)."""
        if self._flushing is not None:
            await asyncio.wait([self._flushing])
        self._committed_at = float("-inf")  # due now
        await self._flush()
        await self._commit_done()  # what is done even if nothing new was published

    def _take_done(self, only: frozenset[TopicPartition] | None = None) -> list[Record]:
        """Per partition, the last record of its done tasks up to the first not done."""
        done_records: list[Record] = []
        for tp, pending in self._inflight.items():
            if only is not None and tp not in only:
                continue
            last: Record | None = None
            for offset in list(pending):  # fetched in order: ascending
                done = pending[offset]
                if done is None:
                    break
                last = done
                del pending[offset]
            if last is not None:
                done_records.append(last)
        return done_records

    async def _revoked(self, partitions: frozenset[TopicPartition]) -> None:
        """Commit what is done on the partitions leaving us; their running tasks finish, and
        the new owner re-runs them (at least once, as for any uncommitted record)."""
        with contextlib.suppress(Exception):
            if self._flushing is not None:
                await asyncio.wait([self._flushing])
            await self._commit_done(partitions)
        for tp in partitions:
            self._inflight.pop(tp, None)

    async def _drain(self) -> None:
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self.flush()

    async def stop(self) -> None:
        if self._lag is not None:
            self._lag.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def _merged(outputs: Iterable[BatchOutput]) -> BatchOutput:
    merged = BatchOutput()
    for output in outputs:
        merged.results.extend(output.results)
        merged.dead_letters.extend(output.dead_letters)
    return merged
