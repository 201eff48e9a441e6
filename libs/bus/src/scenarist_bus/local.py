"""LocalBus: the in-process bus for standalone mode and fast tests, with Kafka's semantics.

Only what services rely on is modelled, but that part behaves like Kafka (the contract suite runs
the same tests against both): partitions chosen by Kafka's murmur2 key hash, per-partition order,
consumer groups with committed offsets, eager rebalancing with revoked/assigned callbacks, and
at-least-once redelivery of whatever a member fetched but did not commit.

Everything lives in memory. `trim_committed()` (also run automatically every `trim_every`
appends to a partition) drops the prefix every group has committed, which bounds memory for
topics that are consumed; `max_retained_per_partition` is a hard cap, like Kafka's size-based
retention, for topics nobody consumes (e.g. the DLQ in standalone mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Iterable, Sequence

from scenarist_bus.instrument import publishing
from scenarist_bus.partitioner import partition_for_key
from scenarist_bus.port import (
    BusClosedError,
    CommitFailedError,
    ConsumerStateError,
    MessageTooLargeError,
    OutgoingMessage,
    RebalanceCallback,
    Record,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    UnknownTopicError,
    next_offsets,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 1_048_576  # Kafka's default max.request.size / message.max.bytes


class _Partition:
    __slots__ = ("appended_since_trim", "log_start", "records")

    def __init__(self) -> None:
        self.log_start = 0
        self.records: list[Record] = []
        self.appended_since_trim = 0

    @property
    def end(self) -> int:
        return self.log_start + len(self.records)

    def drop_before(self, offset: int) -> int:
        n = min(offset, self.end) - self.log_start
        if n <= 0:
            return 0
        del self.records[:n]
        self.log_start += n
        return n


class _Group:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.members: list[LocalConsumer] = []
        self.committed: dict[TopicPartition, int] = {}
        # Serialises rebalances: a join and a leave never interleave their callbacks.
        self.lock = asyncio.Lock()
        self.generation = 0


class LocalBus:
    def __init__(
        self,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        trim_every: int | None = 10_000,
        max_retained_per_partition: int | None = None,
    ) -> None:
        self._max_message_bytes = max_message_bytes
        self._trim_every = trim_every
        self._max_retained = max_retained_per_partition
        self._topics: dict[str, list[_Partition]] = {}
        self._round_robin: dict[str, itertools.count[int]] = {}
        self._groups: dict[str, _Group] = {}
        self._subscribers: dict[str, set[LocalConsumer]] = {}
        self._member_ids = itertools.count()
        self._producer = LocalProducer(self)
        self._closed = False

    # -- Bus port ------------------------------------------------------------------------------

    async def producer(self) -> LocalProducer:
        self._check_open()
        return self._producer

    def consumer(
        self,
        group_id: str,
        topics: Sequence[str],
        *,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
        max_poll_records: int = 500,
        start_from_ms: int | None = None,
    ) -> LocalConsumer:
        self._check_open()
        group = self._groups.setdefault(group_id, _Group(group_id))
        return LocalConsumer(
            self,
            group,
            tuple(topics),
            member_id=f"local-{next(self._member_ids):08d}",
            on_assigned=on_assigned,
            on_revoked=on_revoked,
            max_poll_records=max_poll_records,
            start_from_ms=start_from_ms,
        )

    async def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        self._check_open()
        for spec in specs:
            if spec.partitions <= 0:
                raise ValueError(f"topic {spec.name}: partitions must be positive")
            parts = self._topics.setdefault(spec.name, [])
            # Grow in place like Kafka's CreatePartitions; never shrink.
            parts.extend(_Partition() for _ in range(spec.partitions - len(parts)))
            self._round_robin.setdefault(spec.name, itertools.count())

    async def close(self) -> None:
        if self._closed:
            return
        for members in list(self._subscribers.values()):
            for member in list(members):
                await member.stop()
        self._closed = True

    # -- inspection and retention --------------------------------------------------------------

    def partitions(self, topic: str) -> int:
        return len(self._partitions_of(topic))

    def end_offset(self, tp: TopicPartition) -> int:
        return self._partitions_of(tp.topic)[tp.partition].end

    def offset_for_time(self, tp: TopicPartition, timestamp_ms: int) -> int:
        """The offset of the first record at or after `timestamp_ms` (the end if none), like
        Kafka's ListOffsets by timestamp."""
        part = self._topics[tp.topic][tp.partition]
        for index, record in enumerate(part.records):
            if record.timestamp_ms >= timestamp_ms:
                return part.log_start + index
        return part.end

    def log_start_offset(self, tp: TopicPartition) -> int:
        return self._partitions_of(tp.topic)[tp.partition].log_start

    def committed(self, group_id: str, tp: TopicPartition) -> int | None:
        group = self._groups.get(group_id)
        return None if group is None else group.committed.get(tp)

    def trim_committed(self) -> int:
        """Drop, per partition, the records every group consuming the topic has committed.

        A partition some group reads but has not committed for is kept whole; a topic no group
        reads is kept (only `max_retained_per_partition` bounds it). Returns records dropped.
        """
        dropped = 0
        for topic, parts in self._topics.items():
            for index, part in enumerate(parts):
                dropped += self._trim(TopicPartition(topic, index), part)
        return dropped

    # -- internals used by the producer and consumers ------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")

    def _partitions_of(self, topic: str) -> list[_Partition]:
        try:
            return self._topics[topic]
        except KeyError:
            raise UnknownTopicError(f"topic {topic!r} does not exist") from None

    def _validate(self, msg: OutgoingMessage) -> list[_Partition]:
        parts = self._partitions_of(msg.topic)
        size = len(msg.value) + len(msg.key or b"") + sum(len(k) + len(v) for k, v in msg.headers)
        if size > self._max_message_bytes:
            raise MessageTooLargeError(
                f"record of {size} bytes to {msg.topic} exceeds {self._max_message_bytes}"
            )
        return parts

    def _append(self, msg: OutgoingMessage, parts: list[_Partition]) -> RecordMetadata:
        if msg.key is None:
            index = next(self._round_robin[msg.topic]) % len(parts)
        else:
            index = partition_for_key(msg.key, len(parts))
        part = parts[index]
        now = time.time_ns() // 1_000_000
        record = Record(msg.topic, index, part.end, msg.key, msg.value, msg.headers, now)
        part.records.append(record)
        part.appended_since_trim += 1
        if self._trim_every is not None and part.appended_since_trim >= self._trim_every:
            self._trim(TopicPartition(msg.topic, index), part)
        if self._max_retained is not None and len(part.records) > self._max_retained:
            part.drop_before(part.end - self._max_retained)
        for member in self._subscribers.get(msg.topic, ()):
            member._wake.set()
        return RecordMetadata(msg.topic, index, record.offset, now)

    def _trim(self, tp: TopicPartition, part: _Partition) -> int:
        part.appended_since_trim = 0
        readers = [g for g in self._groups.values() if _group_reads(g, tp.topic)]
        if not readers:
            return 0
        return part.drop_before(min(g.committed.get(tp, 0) for g in readers))

    def _subscribe(self, member: LocalConsumer) -> None:
        for topic in member.topics:
            self._subscribers.setdefault(topic, set()).add(member)

    def _unsubscribe(self, member: LocalConsumer) -> None:
        for topic in member.topics:
            self._subscribers.get(topic, set()).discard(member)


def _group_reads(group: _Group, topic: str) -> bool:
    # A group that ever committed on the topic still reads it, even with no live member now.
    return any(topic in m.topics for m in group.members) or any(
        tp.topic == topic for tp in group.committed
    )


class LocalProducer:
    def __init__(self, bus: LocalBus) -> None:
        self._bus = bus

    async def send(self, msg: OutgoingMessage) -> RecordMetadata:
        with publishing([msg]) as sending:
            [traced] = sending.messages
            meta = self._bus._append(traced, self._bus._validate(traced))
            sending.acknowledged([meta])
        # A real producer awaits I/O here; yielding keeps a tight produce loop from starving
        # consumers in the same event loop.
        await asyncio.sleep(0)
        return meta

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        with publishing(msgs) as sending:
            # Validate everything first, so a bad record fails the batch before anything is
            # written.
            traced = sending.messages
            targets = [self._bus._validate(m) for m in traced]
            out = [self._bus._append(m, parts) for m, parts in zip(traced, targets, strict=True)]
            sending.acknowledged(out)
        await asyncio.sleep(0)
        return out


class LocalConsumer:
    def __init__(
        self,
        bus: LocalBus,
        group: _Group,
        topics: tuple[str, ...],
        *,
        member_id: str,
        on_assigned: RebalanceCallback | None,
        on_revoked: RebalanceCallback | None,
        max_poll_records: int,
        start_from_ms: int | None = None,
    ) -> None:
        self._bus = bus
        self.start_from_ms = start_from_ms
        self._group = group
        self.topics = topics
        self.member_id = member_id
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        self._max_poll_records = max_poll_records
        self._assigned: frozenset[TopicPartition] = frozenset()
        self._positions: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._fetching = False  # False while a rebalance is in progress: fetch nothing
        self._started = False
        self._stopped = False
        self._wake = asyncio.Event()
        self._next_start = 0  # rotates the first partition polled, for fairness

    async def start(self) -> None:
        if self._started:
            return
        if self._stopped:
            raise ConsumerStateError("a stopped consumer cannot be restarted")
        for topic in self.topics:
            self._bus._partitions_of(topic)  # UnknownTopicError, like KafkaBus.start
        self._started = True
        self._bus._subscribe(self)
        await _rebalance(self._group, self._bus, join=self)

    def assignment(self) -> frozenset[TopicPartition]:
        return self._assigned

    async def lag(self) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        for tp in self._assigned:
            part = self._bus._topics[tp.topic][tp.partition]
            position = max(self._positions.get(tp, part.log_start), part.log_start)
            out[tp] = max(0, part.end - position)
        return out

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        self._paused.update(tp for tp in partitions if tp in self._assigned)

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        self._paused.difference_update(partitions)
        self._wake.set()

    async def getmany(self, timeout_ms: int = 1000, max_records: int | None = None) -> list[Record]:
        if not self._started or self._stopped:
            raise ConsumerStateError("getmany on a consumer that is not running")
        limit = max_records or self._max_poll_records
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            self._wake.clear()  # cleared before collecting: no wake-up can be lost in between
            batch = self._collect(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopped:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def _collect(self, limit: int) -> list[Record]:
        if not self._fetching:
            return []
        owned = sorted(tp for tp in self._assigned if tp not in self._paused)
        if not owned:
            return []
        self._next_start = (self._next_start + 1) % len(owned)
        out: list[Record] = []
        for tp in owned[self._next_start :] + owned[: self._next_start]:
            part = self._bus._topics[tp.topic][tp.partition]
            # Position below the log start (trimmed by the hard cap): auto_offset_reset=earliest.
            pos = max(self._positions[tp], part.log_start)
            take = part.records[pos - part.log_start : pos - part.log_start + limit - len(out)]
            out.extend(take)
            self._positions[tp] = pos + len(take)
            if len(out) >= limit:
                break
        return out

    async def commit(self, records: Iterable[Record]) -> None:
        offsets = next_offsets(records)
        if not offsets:
            return
        lost = sorted(tp for tp in offsets if tp not in self._assigned)
        if lost or not self._started or self._stopped:
            raise CommitFailedError(
                f"group {self._group.group_id}: member {self.member_id} does not own {lost}"
            )
        self._group.committed.update(offsets)

    async def stop(self, *, commit: Iterable[Record] = ()) -> None:
        if self._stopped:
            return
        try:
            if self._started:
                await self.commit(commit)
        finally:
            if self._started:
                await _rebalance(self._group, self._bus, leave=self)
            self._stopped = True
            self._wake.set()

    async def _fire(
        self, callback: RebalanceCallback | None, tps: frozenset[TopicPartition]
    ) -> None:
        if callback is None or not tps:
            return
        try:
            await callback(tps)
        except Exception:  # aiokafka logs and continues too; one bad callback can't stall a group
            log.exception("rebalance callback of %s failed", self.member_id)


async def _rebalance(
    group: _Group,
    bus: LocalBus,
    *,
    join: LocalConsumer | None = None,
    leave: LocalConsumer | None = None,
) -> None:
    """Kafka's eager protocol: everyone stops fetching, is revoked, then gets a new assignment."""
    async with group.lock:
        for member in group.members:
            member._fetching = False
        # Revoked callbacks run while members still own their partitions, so they may commit.
        for member in group.members:
            await member._fire(member._on_revoked, member._assigned)
        if leave is not None and leave in group.members:
            group.members.remove(leave)
            leave._assigned = frozenset()
            leave._positions.clear()
            bus._unsubscribe(leave)
        if join is not None:
            group.members.append(join)
        group.generation += 1
        plan = _round_robin_assign(group.members, bus)
        for member in group.members:
            member._assigned = plan[member.member_id]
            member._positions = {tp: _start(group, bus, member, tp) for tp in member._assigned}
            member._paused.clear()
        for member in group.members:
            member._fetching = True
            member._wake.set()
            await member._fire(member._on_assigned, member._assigned)


def _start(group: _Group, bus: LocalBus, member: LocalConsumer, tp: TopicPartition) -> int:
    committed = group.committed.get(tp)
    if committed is not None:
        return committed
    if member.start_from_ms is None:
        return bus.log_start_offset(tp)
    return bus.offset_for_time(tp, member.start_from_ms)


def _round_robin_assign(
    members: list[LocalConsumer], bus: LocalBus
) -> dict[str, frozenset[TopicPartition]]:
    """aiokafka's default RoundRobinPartitionAssignor: sorted partitions dealt to sorted members
    (skipping members not subscribed to a partition's topic)."""
    ordered = sorted(members, key=lambda m: m.member_id)
    topics = sorted({t for m in members for t in m.topics})
    plan: dict[str, set[TopicPartition]] = {m.member_id: set() for m in ordered}
    cursor = itertools.cycle(ordered) if ordered else None
    for topic in topics:
        for index in range(bus.partitions(topic)):
            assert cursor is not None
            member = next(cursor)
            while topic not in member.topics:
                member = next(cursor)
            plan[member.member_id].add(TopicPartition(topic, index))
    return {member_id: frozenset(tps) for member_id, tps in plan.items()}
