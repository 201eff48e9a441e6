"""One consumer group member over aiokafka, with the port's rebalance and commit semantics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import ConsumerRebalanceListener  # type: ignore[import-untyped]
from aiokafka import TopicPartition as KafkaTP
from aiokafka.errors import (  # type: ignore[import-untyped]
    CommitFailedError as KafkaCommitFailedError,
)
from aiokafka.errors import (
    IllegalGenerationError,
    IllegalStateError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from aiokafka.structs import OffsetAndMetadata  # type: ignore[import-untyped]

from scenarist_bus.port import (
    CommitFailedError,
    ConsumerStateError,
    RebalanceCallback,
    Record,
    TopicPartition,
    UnknownTopicError,
    next_offsets,
)

log = logging.getLogger(__name__)

# How long lag() waits for the position of a partition whose offset is still being looked up.
_LAG_WAIT_SECONDS = 0.5

# Every way aiokafka says "you are not the owner (any more)".
_LOST_OWNERSHIP = (
    KafkaCommitFailedError,
    IllegalStateError,
    IllegalGenerationError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)


def _ours(tps: Iterable[Any]) -> frozenset[TopicPartition]:
    return frozenset(TopicPartition(str(tp.topic), int(tp.partition)) for tp in tps)


def _record(raw: Any) -> Record:
    # Kafka allows null header values; the port's headers are bytes, so null becomes b"".
    headers = tuple((str(k), bytes(v) if v is not None else b"") for k, v in raw.headers or ())
    return Record(
        topic=str(raw.topic),
        partition=int(raw.partition),
        offset=int(raw.offset),
        key=None if raw.key is None else bytes(raw.key),
        value=b"" if raw.value is None else bytes(raw.value),
        headers=headers,
        timestamp_ms=int(raw.timestamp),
    )


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka calls this from its coordinator task during a rebalance."""

    def __init__(self, owner: KafkaConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._owner._handle_revoked(_ours(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._owner._handle_assigned(_ours(assigned))


class KafkaConsumer:
    def __init__(
        self,
        raw: Any,
        group_id: str,
        topics: tuple[str, ...],
        *,
        on_assigned: RebalanceCallback | None,
        on_revoked: RebalanceCallback | None,
        start_from_ms: int | None = None,
    ) -> None:
        self._raw = raw
        self._start_from_ms = start_from_ms
        self.group_id = group_id
        self.topics = topics
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked
        # What the user's callbacks were told we own: the source of truth for assignment(), and
        # what makes revocations fire once even if aiokafka and stop() both revoke.
        self._owned: frozenset[TopicPartition] = frozenset()
        # Set once the assigned callback of the current generation has returned.
        self._settled = asyncio.Event()
        self._started = False
        self._stopped = False

    async def start(self) -> None:
        if self._started:
            return
        if self._stopped:
            raise ConsumerStateError("a stopped consumer cannot be restarted")
        await self._raw.start()
        existing: set[str] = set(await self._raw.topics())
        missing = sorted(set(self.topics) - existing)
        if missing:
            await self._raw.stop()
            self._stopped = True
            raise UnknownTopicError(f"topics {missing} do not exist")
        self._raw.subscribe(topics=list(self.topics), listener=_Listener(self))
        self._started = True

    @property
    def stopped(self) -> bool:
        return self._stopped

    def assignment(self) -> frozenset[TopicPartition]:
        return self._owned

    async def lag(self) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        unknown: list[Any] = []
        for tp in self._owned:
            raw_tp = KafkaTP(tp.topic, tp.partition)
            try:
                position = await asyncio.wait_for(self._raw.position(raw_tp), _LAG_WAIT_SECONDS)
                end = self._raw.highwater(raw_tp)
            except (TimeoutError, AssertionError, IllegalStateError):
                continue  # no position yet, or revoked meanwhile: nothing meaningful to report
            if end is None:
                unknown.append((tp, raw_tp, position))
            else:
                out[tp] = max(0, int(end) - int(position))
        if unknown:
            # Not fetched yet (just assigned): one ListOffsets request for all of them.
            ends = await self._raw.end_offsets([raw for _, raw, _ in unknown])
            for tp, raw_tp, position in unknown:
                if raw_tp in ends:
                    out[tp] = max(0, int(ends[raw_tp]) - int(position))
        return out

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        tps = [KafkaTP(tp.topic, tp.partition) for tp in partitions if tp in self._owned]
        if tps:
            self._raw.pause(*tps)

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        tps = [KafkaTP(tp.topic, tp.partition) for tp in partitions if tp in self._owned]
        if tps:
            self._raw.resume(*tps)

    async def getmany(self, timeout_ms: int = 1000, max_records: int | None = None) -> list[Record]:
        if not self._started or self._stopped:
            raise ConsumerStateError("getmany on a consumer that is not running")
        batches: dict[Any, list[Any]] = await self._raw.getmany(
            timeout_ms=timeout_ms, max_records=max_records
        )
        if not batches:
            return []
        # aiokafka may hand out records of a new assignment while our assigned callback (which
        # the orchestrator uses to fence stale owners) is still running: wait for it, then drop
        # anything a further rebalance took away (its new owner re-reads from the commit).
        await self._settled.wait()
        out: list[Record] = []
        for tp, raws in batches.items():
            if TopicPartition(str(tp.topic), int(tp.partition)) in self._owned:
                out.extend(_record(r) for r in raws)
        return out

    async def commit(self, records: Iterable[Record]) -> None:
        offsets = next_offsets(records)
        if not offsets:
            return
        lost = sorted(tp for tp in offsets if tp not in self._owned)
        if lost or not self._started or self._stopped:
            raise CommitFailedError(f"group {self.group_id}: not the owner of {lost}")
        try:
            await self._raw.commit(
                {
                    KafkaTP(tp.topic, tp.partition): OffsetAndMetadata(o, "")
                    for tp, o in offsets.items()
                }
            )
        except _LOST_OWNERSHIP as exc:
            raise CommitFailedError(f"group {self.group_id}: {exc!r}") from exc

    async def stop(self, *, commit: Iterable[Record] = ()) -> None:
        if self._stopped:
            return
        try:
            if self._started:
                await self.commit(commit)
        finally:
            # aiokafka's stop() leaves the group without calling the listener; fire on_revoked
            # ourselves so services get the same last chance to flush as on a rebalance.
            if self._started:
                await self._handle_revoked(self._owned)
            self._stopped = True
            self._settled.set()  # release a getmany waiting on a rebalance that won't finish
            await self._raw.stop()

    async def _handle_revoked(self, revoked: frozenset[TopicPartition]) -> None:
        self._settled.clear()
        lost = revoked & self._owned
        if lost:
            await _fire(self._on_revoked, lost, self.group_id)  # still owned: it may commit
            self._owned = self._owned - lost

    async def _handle_assigned(self, assigned: frozenset[TopicPartition]) -> None:
        if self._stopped:
            return
        self._owned = assigned
        try:
            if assigned and self._start_from_ms is not None:
                await self._seek_to_start(assigned, self._start_from_ms)
            if assigned:
                await _fire(self._on_assigned, assigned, self.group_id)
        finally:
            self._settled.set()

    async def _seek_to_start(self, assigned: frozenset[TopicPartition], since_ms: int) -> None:
        """Partitions without a committed offset start at the first record at or after
        `since_ms` (ListOffsets by timestamp), or where they ended before that lookup.

        The ends are read first, in one request: a record sent after it is at or past its
        partition's end, so nothing from `since_ms` on is skipped. (aiokafka's seek_to_end
        resolves the end later, one partition after another, each waiting for the fetch in
        flight, up to 0.5 s: records sent meanwhile were skipped, and the trigger's first
        replies after a start never reached their callers.)"""
        fresh = []
        for tp in sorted(assigned):
            raw_tp = KafkaTP(tp.topic, tp.partition)
            if await self._raw.committed(raw_tp) is None:
                fresh.append(raw_tp)
        if not fresh:
            return
        ends = await self._raw.end_offsets(fresh)
        found = await self._raw.offsets_for_times(dict.fromkeys(fresh, since_ms))
        for raw_tp in fresh:
            hit = found.get(raw_tp)
            self._raw.seek(raw_tp, ends[raw_tp] if hit is None else hit.offset)


async def _fire(
    callback: RebalanceCallback | None, tps: frozenset[TopicPartition], group_id: str
) -> None:
    if callback is None:
        return
    try:
        await callback(tps)
    except Exception:  # like aiokafka and LocalBus: log, never wedge the group's rebalance
        log.exception("rebalance callback failed in group %s", group_id)
