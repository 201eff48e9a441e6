"""The orchestrator's consumer loop: fetch a batch, process it, publish its outbox, commit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from scenarist_bus import topics
from scenarist_bus.consuming import commit_or_hand_back
from scenarist_bus.dlq import dead_letter
from scenarist_bus.instrument import process_spans
from scenarist_bus.lag import LagReporter
from scenarist_bus.port import (
    Bus,
    Consumer,
    MessageTooLargeError,
    OutgoingMessage,
    Producer,
    Record,
    TopicPartition,
    UnknownTopicError,
)
from scenarist_observability.metrics import METRICS
from scenarist_storage.models import ClaimedMessage
from scenarist_storage.ports import RunStore

from scenarist_orchestrator.processor import SERVICE, RunProcessor
from scenarist_orchestrator.run_trace import batch_traces

log = logging.getLogger(__name__)

GROUP = "scenarist-orchestrator"
INPUT_TOPICS = (topics.RUNS_REQUESTED, topics.TASKS_RESULTS)
# How long a relay owns the outbox rows it claimed. It covers one send_batch (milliseconds); what
# it really bounds is how long rows claimed by an orchestrator that died mid-relay wait before
# another one publishes them. A relay slower than this publishes some messages twice, which the
# consumers absorb (results are applied once, step logs are keyed by task and attempt).
OUTBOX_LEASE_SECONDS = 10.0
# A busy loop publishes its own batches' messages; the relay (rows whose writer died before
# publishing, whose lease ran out) then runs on idle polls and at least this often.
RELAY_EVERY_SECONDS = 1.0
COMMIT_EVERY_SECONDS = 0.1
# Results of a fan-out are gathered for up to GATHER_MS into one batch (one state save, one
# send of step logs) instead of being saved a few at a time as executors return them: a run with
# WIDE_RUN_TASKS or more tasks out cannot finish before those are back, so its results may wait
# a little. Any other record ends the gathering at once, so no other run waits for it.
GATHER_MS = 30
WIDE_RUN_TASKS = 16


class OrchestratorLoop:
    def __init__(
        self,
        bus: Bus,
        runs: RunStore,
        processor: RunProcessor,
        *,
        batch_size: int = 500,
        poll_ms: int = 50,
        outbox_lease_seconds: float = OUTBOX_LEASE_SECONDS,
        relay_every_seconds: float = RELAY_EVERY_SECONDS,
        gather_ms: int = GATHER_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gather_ms = gather_ms
        self._bus = bus
        self._outbox_lease = outbox_lease_seconds
        self._runs = runs
        self._processor = processor
        self._batch_size = batch_size
        self._poll_ms = poll_ms
        self._epoch = 0
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._lag: LagReporter | None = None
        # Outbox ids this loop published itself and has not deleted yet.
        self._published: list[int] = []
        self._relay_every = relay_every_seconds
        self._clock = clock
        self._relayed_at = clock()
        # The last offset commit, running while the next batch is processed, and per partition
        # the last record processed since (committed at most every COMMIT_EVERY_SECONDS).
        self._commit: asyncio.Task[bool] | None = None
        self._uncommitted: dict[TopicPartition, Record] = {}
        self._committed_at = clock()

    async def start(self) -> None:
        self._producer = await self._bus.producer()
        self._consumer = self._bus.consumer(
            GROUP,
            INPUT_TOPICS,
            on_assigned=self._assigned,
            on_revoked=self._revoked,
            max_poll_records=self._batch_size,
        )
        await self._consumer.start()
        self._lag = LagReporter(self._consumer)

    async def _assigned(self, partitions: frozenset[TopicPartition]) -> None:
        # A new epoch on every assignment fences off whoever owned these partitions before.
        self._epoch = await self._runs.next_owner_epoch()
        self._processor.forget()

    async def _revoked(self, partitions: frozenset[TopicPartition]) -> None:
        await self._commit_now()  # what was processed is committed before the partitions move
        self._processor.forget()

    async def run_once(self) -> int:
        """One batch; returns how many records it consumed."""
        assert self._consumer is not None and self._producer is not None
        records = await self._gathered(
            await self._consumer.getmany(self._poll_ms, self._batch_size)
        )
        if self._lag is not None:
            await self._lag.maybe_report()
        if not records:
            await self._committed()
            self._commit_if_due()
            await self.relay()
            return 0
        _count_consumed(records)
        with process_spans(records, GROUP) as spans:
            traces = batch_traces(records, spans)
            outcome = await self._processor.process(
                records,
                self._epoch,
                traces,
                published=self._published,
                lease_seconds=self._outbox_lease,
            )
            for record, reason in outcome.dead_letters:
                await dead_letter(self._producer, record, reason, error_type="invalid_message")
                METRICS.dlq_messages.labels(record.topic, "invalid_message").inc()
        if outcome.saved is not None:
            self._published = []  # deleted in that save's transaction
            await self._publish_own(outcome.saved.leased)
        # Published and acknowledged: the offsets may be committed. The commit (a broker round
        # trip) runs while the next batch is fetched and processed; commits stay in order
        # because each waits for the one before.
        for record in records:  # in offset order per partition
            self._uncommitted[record.tp] = record
        await self._committed()
        self._commit_if_due()
        if self._clock() - self._relayed_at >= self._relay_every:
            await self.relay()
        return len(records)

    def _commit_if_due(self) -> None:
        """Commit at most every COMMIT_EVERY_SECONDS: a fan-out's results arrive a few per
        batch, and a commit per batch was a broker request per batch (workload 4). Whatever a
        crash leaves uncommitted is processed again, and processing is idempotent (a result
        for a token no longer in flight, a request for a run that exists, change nothing)."""
        if not self._uncommitted or self._commit is not None:
            return
        if self._clock() - self._committed_at < COMMIT_EVERY_SECONDS:
            return
        assert self._consumer is not None
        records, self._uncommitted = list(self._uncommitted.values()), {}
        self._committed_at = self._clock()
        self._commit = asyncio.create_task(commit_or_hand_back(self._consumer, records))

    async def _commit_now(self) -> None:
        await self._committed()
        self._committed_at = float("-inf")
        self._commit_if_due()
        await self._committed()

    async def _committed(self) -> None:
        """Wait for the previous batch's commit; its failure (not a rebalance) is raised here."""
        pending, self._commit = self._commit, None
        if pending is not None:
            await pending

    async def _gathered(self, records: list[Record]) -> list[Record]:
        """`records` and, while they are all results of wide runs, what else arrives within
        the gather time (up to the batch size). Fetched in order, so offsets stay in order."""
        assert self._consumer is not None
        if not self._gather_ms or not self._wide_results(records):
            return records
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._gather_ms / 1000
        while len(records) < self._batch_size:
            left_ms = int((deadline - loop.time()) * 1000)
            if left_ms <= 0:
                break
            more = await self._consumer.getmany(left_ms, self._batch_size - len(records))
            records += more
            if more and not self._wide_results(more):
                break
        return records

    def _wide_results(self, records: Sequence[Record]) -> bool:
        # Results are keyed by run id (envelope.wrap); a record that lies about it is only
        # processed a few ms later, and decoded, checked and dead-lettered as usual then.
        return bool(records) and all(
            record.topic == topics.TASKS_RESULTS
            and record.key is not None
            and self._processor.tasks_out(record.key.decode(errors="replace")) >= WIDE_RUN_TASKS
            for record in records
        )

    async def _publish_own(self, leased: Sequence[ClaimedMessage]) -> None:
        """The batch's own messages, straight from its save (ADR 0002): no claim round trip;
        their rows are deleted by the next save (or the next relay), and should this process
        die first, their lease runs out and any relay publishes them."""
        if not leased:
            return
        await self._send(leased)
        self._published.extend(m.id for m in leased)

    async def relay(self, limit: int = 1000) -> int:
        """Publish what the outbox holds besides the loop's own batches (rows of a writer that
        died before publishing), oldest first, then delete it: the delete only tidies up (rows
        it misses are published again after their lease). Also deletes the loop's own
        published rows when no save has taken them along."""
        assert self._producer is not None
        self._relayed_at = self._clock()
        if self._published:
            await self._delete_ids(self._published)
            self._published = []
        published = 0
        while True:
            with METRICS.db_transaction_duration.labels(SERVICE).time():
                claimed = await self._runs.claim_outbox(limit, lease_seconds=self._outbox_lease)
            if not claimed:
                return published
            # The producer counts the messages and opens their publish spans, continuing each
            # run's trace from the context its outbox row kept.
            await self._send(claimed)
            published += len(claimed)
            if len(claimed) < limit:
                # The outbox held less than a page: it was empty an instant ago, and asking
                # again would cost a round trip per batch; the next batch relays what came since.
                await self._delete(claimed)
                return published
            await self._delete(claimed)

    async def _send(self, messages: Sequence[ClaimedMessage]) -> None:
        """Publish outbox rows. A row the broker can never take (its topic does not exist, it
        is too large) goes to the dead-letter topic instead of failing every pass of the loop;
        the rest of its batch is published one by one (at least once, as always). A topic found
        missing is asked for once per batch: each ask waits for the broker's metadata (~0.3 s),
        and a page of a thousand rows for one missing topic held the loop for minutes."""
        assert self._producer is not None
        try:
            await self._producer.send_batch([_outgoing(m) for m in messages])
            return
        except (UnknownTopicError, MessageTooLargeError):
            pass
        missing: dict[str, str] = {}  # topic -> why it was refused
        for message in messages:
            reason = missing.get(message.topic)
            if reason is None:
                try:
                    await self._producer.send(_outgoing(message))
                    continue
                except UnknownTopicError as exc:
                    reason = missing[message.topic] = str(exc)
                except MessageTooLargeError as exc:
                    reason = str(exc)
            await dead_letter(
                self._producer, _as_record(message), reason, error_type="unpublishable"
            )
            METRICS.dlq_messages.labels(message.topic, "unpublishable").inc()

    async def _delete(self, claimed: list[ClaimedMessage]) -> None:
        await self._delete_ids([m.id for m in claimed])

    async def _delete_ids(self, ids: list[int]) -> None:
        with METRICS.db_transaction_duration.labels(SERVICE).time():
            await self._runs.delete_outbox(ids)

    async def run(self, stopping: asyncio.Event) -> None:
        await self.start()
        try:
            while not stopping.is_set():
                await self.run_once()
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._lag is not None:
            self._lag.clear()
        try:
            await self._commit_now()
        except Exception:  # stopping anyway: the batch is re-read by the next owner
            log.exception("committing the last batch failed")
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


def _outgoing(message: ClaimedMessage) -> OutgoingMessage:
    return OutgoingMessage(message.topic, message.value, message.key, message.headers)


def _as_record(message: ClaimedMessage) -> Record:
    """An outbox row in the shape the dead-letter topic keeps: its topic, and its outbox id
    where a consumed record has its offset (partition -1: it never reached a partition)."""
    return Record(message.topic, -1, message.id, message.key, message.value, message.headers, 0)


def _count_consumed(records: list[Record]) -> None:
    for topic, count in Counter(r.topic for r in records).items():
        METRICS.bus_messages_consumed.labels(topic).inc(count)
        METRICS.bus_batch_size.labels(topic).observe(count)
