"""The Bus port: what services may rely on, whichever bus (Kafka or in-process) is behind it.

Services depend on these types only; `KafkaBus` and `LocalBus` both implement them and pass the
one contract suite in tests/contract/bus. Semantics every implementation guarantees:

- A topic has a fixed number of partitions; a record's partition is chosen by the murmur2 hash
  of its key (Kafka's default partitioner), keyless records are spread. Order is per partition.
- `Producer.send` / `send_batch` return only once the records are durable (Kafka: acks=all with
  an idempotent producer, so retries never duplicate or reorder within a partition).
- Consumption is at-least-once: a consumer group member commits explicitly; records it fetched
  but did not commit are delivered again to whichever member owns the partition next.
- A group rebalances when members join or leave; the revoked callback runs before a member
  loses partitions (last chance to commit) and the assigned callback after it gets new ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True, order=True)
class TopicPartition:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed record. Immutable so it can be kept in a batch and committed later."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    timestamp_ms: int

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    def header(self, name: str) -> bytes | None:
        """The last value of header `name` (Kafka allows repeats; the last one wins here)."""
        found: bytes | None = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where an acknowledged record landed."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    # Topic-level configs (e.g. retention.ms); empty means broker defaults.
    config: Mapping[str, str] = field(default_factory=dict)


# Rebalance callbacks receive the partitions being revoked / newly assigned (eager protocol: on
# every rebalance a member first loses all its partitions, then gets its new set).
RebalanceCallback = Callable[[frozenset[TopicPartition]], Awaitable[None]]


class BusError(Exception):
    """Base of every error the bus port raises."""


class UnknownTopicError(BusError):
    """Producing to or subscribing to a topic that was never created."""


class MessageTooLargeError(BusError):
    """A record over the bus's size limit: large bundles must go by reference (claim check)."""


class ProduceError(BusError):
    """At least one record of a send was not acknowledged; it may or may not have been written."""


class CommitFailedError(BusError):
    """The commit was refused because this member no longer owns (some of) the partitions.

    The caller lost ownership in a rebalance: it must drop the batch, not retry the commit; the new
    owner will receive the records again.
    """


class BusClosedError(BusError):
    """The bus was closed; nothing more can be produced or consumed through it."""


class ConsumerStateError(BusError):
    """A consumer used before `start()` or after `stop()`."""


def next_offsets(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The offset to commit per partition: one past the highest offset among `records`."""
    out: dict[TopicPartition, int] = {}
    for record in records:
        tp = record.tp
        nxt = record.offset + 1
        if out.get(tp, -1) < nxt:
            out[tp] = nxt
    return out


@runtime_checkable
class Producer(Protocol):
    async def send(self, msg: OutgoingMessage) -> RecordMetadata:
        """Send one record and wait for its durable acknowledgement."""
        ...

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        """Send many records pipelined and wait for all acks; results are in input order.

        Raises ProduceError when any record failed (others may have been written: at-least-once).
        """
        ...


@runtime_checkable
class Consumer(Protocol):
    """One member of a consumer group. Not safe for concurrent getmany calls."""

    async def start(self) -> None:
        """Join the group. Partitions arrive asynchronously (watch `assignment()` / callbacks)."""
        ...

    async def getmany(self, timeout_ms: int = 1000, max_records: int | None = None) -> list[Record]:
        """Records from owned, unpaused partitions; waits up to `timeout_ms` when none is ready.

        Returns [] on timeout. Records of one partition come in offset order.
        """
        ...

    async def commit(self, records: Iterable[Record]) -> None:
        """Commit, for each partition present in `records`, the offset after its highest record.

        Partitions not present are untouched. Raises CommitFailedError when this member does not
        own one of those partitions any more.
        """
        ...

    def assignment(self) -> frozenset[TopicPartition]: ...

    async def lag(self) -> dict[TopicPartition, int]:
        """Per owned partition: records between this member's position and the partition end.

        Cheap enough for a loop to call every few seconds (Kafka: the high watermarks the
        fetches already returned; a list-offsets request only for partitions not fetched yet).
        """
        ...

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        """Stop returning records for these partitions (backpressure) until `resume`."""
        ...

    def resume(self, partitions: Iterable[TopicPartition]) -> None: ...

    async def stop(self, *, commit: Iterable[Record] = ()) -> None:
        """Leave the group gracefully: commit `commit`, fire on_revoked, hand partitions back.

        Anything fetched but not committed is redelivered to the next owner. Idempotent.
        """
        ...


@runtime_checkable
class Bus(Protocol):
    async def producer(self) -> Producer:
        """The bus's shared, started producer (one per bus: batching works best when shared)."""
        ...

    def consumer(
        self,
        group_id: str,
        topics: Sequence[str],
        *,
        on_assigned: RebalanceCallback | None = None,
        on_revoked: RebalanceCallback | None = None,
        max_poll_records: int = 500,
        start_from_ms: int | None = None,
    ) -> Consumer:
        """A new, not yet started, member of consumer group `group_id`.

        `start_from_ms`: where a partition the group has no committed offset for is read from:
        None, its earliest record; a timestamp (ms), its first record at or after it (its end if
        there is none). A consumer that only cares about what happens from now on (a fresh group
        per process) would otherwise read the topic's whole retention every time it starts."""
        ...

    async def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        """Create missing topics; grow partitions of existing ones if the spec has more.

        Idempotent. Never shrinks (Kafka cannot).
        """
        ...

    async def close(self) -> None:
        """Stop the producer and every consumer still running. Idempotent."""
        ...
