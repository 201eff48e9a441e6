"""KafkaBus: the Bus port over aiokafka.

Durability: one idempotent producer per bus with acks=all, so an acknowledged record survives a
broker failover and producer retries never duplicate or reorder a partition. Consumption: manual
commits only (at-least-once), earliest offset for new groups, and group timeouts short enough
that a killed member's partitions move within seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.admin import (  # type: ignore[import-untyped]
    AIOKafkaAdminClient,
    NewPartitions,
    NewTopic,
)
from aiokafka.errors import KafkaError, MessageSizeTooLargeError  # type: ignore[import-untyped]

from scenarist_bus.instrument import publishing
from scenarist_bus.kafka_consumer import KafkaConsumer
from scenarist_bus.partitioner import partition_for_key
from scenarist_bus.port import (
    BusClosedError,
    BusError,
    MessageTooLargeError,
    OutgoingMessage,
    ProduceError,
    RebalanceCallback,
    RecordMetadata,
    TopicSpec,
    UnknownTopicError,
)

log = logging.getLogger(__name__)

YIELD_EVERY = 128  # records enqueued between two chances for the sender to ship them

_TOPIC_ALREADY_EXISTS = 36
_METADATA_ATTEMPTS = 3  # a just-created topic can take a moment to reach the producer's metadata


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "scenarist",
        replication_factor: int = 1,
        # 0: a record leaves as soon as the connection is free. aiokafka keeps one produce
        # request in flight per broker, so records sent meanwhile still share the next batch;
        # a linger would only add its length to every hop of a run (two per module task).
        linger_ms: int = 0,
        compression_type: str | None = None,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 1_000,
        max_poll_interval_ms: int = 300_000,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._replication = replication_factor
        self._linger_ms = linger_ms
        self._compression = compression_type
        self._consumer_settings: dict[str, Any] = {
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
            "max_poll_interval_ms": max_poll_interval_ms,
            # Members must rejoin quickly in tests and in a rolling restart; 30 s is plenty for a
            # revoked callback that commits or flushes.
            "rebalance_timeout_ms": 30_000,
        }
        self._producer: KafkaProducer | None = None
        self._producer_lock = asyncio.Lock()
        self._consumers: list[KafkaConsumer] = []
        self._closed = False

    async def producer(self) -> KafkaProducer:
        if self._closed:
            raise BusClosedError("the bus is closed")
        async with self._producer_lock:
            if self._producer is None:
                raw = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=f"{self._client_id}-producer",
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=self._linger_ms,
                    compression_type=self._compression,
                    max_batch_size=64 * 1024,  # larger batches on the hot path than the 16 KiB
                    partitioner=_partitioner(),
                )
                await raw.start()
                self._producer = KafkaProducer(raw)
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
    ) -> KafkaConsumer:
        if self._closed:
            raise BusClosedError("the bus is closed")
        self._consumers = [c for c in self._consumers if not c.stopped]
        consumer = KafkaConsumer(
            AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id=f"{self._client_id}-{group_id}",
                group_id=group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=max_poll_records,
                **self._consumer_settings,
            ),
            group_id,
            tuple(topics),
            on_assigned=on_assigned,
            on_revoked=on_revoked,
            start_from_ms=start_from_ms,
        )
        self._consumers.append(consumer)
        return consumer

    async def create_topics(self, specs: Iterable[TopicSpec]) -> None:
        wanted = {s.name: s for s in specs}
        if not wanted:
            return
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin"
        )
        await admin.start()
        try:
            existing = await _describe(admin, list(wanted))
            missing = [
                NewTopic(s.name, s.partitions, self._replication, topic_configs=dict(s.config))
                for s in wanted.values()
                if s.name not in existing
            ]
            if missing:
                response = await admin.create_topics(missing)
                for topic, code, *message in response.topic_errors:
                    if code not in (0, _TOPIC_ALREADY_EXISTS):  # a concurrent creator won: fine
                        raise BusError(f"cannot create topic {topic}: code {code} {message}")
            grow = {
                name: NewPartitions(s.partitions)
                for name, s in wanted.items()
                if name in existing and existing[name] < s.partitions
            }
            if grow:
                await admin.create_partitions(grow)
            for name, s in wanted.items():
                if name in existing and existing[name] > s.partitions:
                    log.warning(
                        "topic %s has %d partitions > %d", name, existing[name], s.partitions
                    )
            await _wait_visible(admin, wanted)
        finally:
            await admin.close()

    async def describe_topics(self, names: Sequence[str]) -> dict[str, int]:
        """Partition count of each existing topic among `names`."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin"
        )
        await admin.start()
        try:
            return await _describe(admin, list(names))
        finally:
            await admin.close()

    async def delete_topics(self, names: Sequence[str]) -> None:
        """For tests that create throwaway topics."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin"
        )
        await admin.start()
        try:
            await admin.delete_topics(list(names))
        finally:
            await admin.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for consumer in self._consumers:
            await consumer.stop()
        if self._producer is not None:
            await self._producer.stop()


async def _describe(admin: Any, names: list[str]) -> dict[str, int]:
    described: list[dict[str, Any]] = await admin.describe_topics(names)
    return {
        str(t["topic"]): len(t["partitions"])
        for t in described
        if t["error_code"] == 0 and t["partitions"]
    }


async def _wait_visible(admin: Any, wanted: dict[str, TopicSpec]) -> None:
    """Wait (bounded) until every topic reports all partitions with a leader, so the first send
    after create_topics does not race the metadata propagation."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(list(wanted))
        ready = {
            str(t["topic"])
            for t in described
            if t["error_code"] == 0
            and len(t["partitions"]) >= wanted[str(t["topic"])].partitions
            and all(p["leader"] >= 0 for p in t["partitions"])
        }
        if ready >= set(wanted):
            return
        if loop.time() > deadline:
            raise BusError(f"topics not ready after 30 s: {sorted(set(wanted) - ready)}")
        await asyncio.sleep(0.1)


def _partitioner() -> Any:
    """Keys: our murmur2 (the same function LocalBus uses). No key: round-robin, like LocalBus,
    instead of aiokafka's random pick, so keyless records spread evenly."""
    counter = itertools.count()

    def choose(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            pool = available or all_partitions
            return pool[next(counter) % len(pool)]
        return all_partitions[partition_for_key(key, len(all_partitions))]

    return choose


class KafkaProducer:
    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._known_topics: set[str] = set()

    async def send(self, msg: OutgoingMessage) -> RecordMetadata:
        return (await self.send_batch([msg]))[0]

    async def send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        with publishing(msgs) as sending:
            metadata = await self._send_batch(sending.messages)
            sending.acknowledged(metadata)
            return metadata

    async def _send_batch(self, msgs: Sequence[OutgoingMessage]) -> list[RecordMetadata]:
        for topic in {m.topic for m in msgs} - self._known_topics:
            await self._require_topic(topic)
        futures: list[asyncio.Future[Any]] = []
        failure: BaseException | None = None
        for index, msg in enumerate(msgs):
            if index and index % YIELD_EVERY == 0:
                # Let the sender ship what is enqueued while the rest is: a fan-out's 1,000
                # tasks took ~30 ms to enqueue, and none left before the last was in. A batch
                # sent concurrently from the same producer may now interleave with this one
                # (each keeps its own order); our publishers that need an order between
                # batches (the orchestrator's loop, the executor's flush) send one at a time.
                await asyncio.sleep(0)
            try:
                # send() only enqueues into the accumulator (linger batches them); acks come later
                futures.append(
                    await self._raw.send(
                        msg.topic, value=msg.value, key=msg.key, headers=list(msg.headers)
                    )
                )
            except MessageSizeTooLargeError as exc:
                failure = MessageTooLargeError(f"record to {msg.topic}: {exc}")
                break
            except KafkaError as exc:
                failure = ProduceError(f"enqueue to {msg.topic} failed: {exc!r}")
                break
        # Even on failure, wait for what was enqueued: the caller learns about every outcome.
        results = await asyncio.gather(*futures, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if failure is not None:
            raise failure
        if errors:
            raise ProduceError(
                f"{len(errors)} of {len(msgs)} records not acknowledged: {errors[0]!r}"
            )
        acks: list[Any] = list(results)
        return [
            RecordMetadata(str(r.topic), int(r.partition), int(r.offset), int(r.timestamp))
            for r in acks
        ]

    async def _require_topic(self, topic: str) -> None:
        # aiokafka would wait request_timeout_ms (40 s) for an unknown topic; fail fast instead.
        # fetch_all_metadata reads a fresh snapshot without making the client track the topic.
        client = self._raw.client
        for attempt in range(_METADATA_ATTEMPTS):
            if attempt:
                await asyncio.sleep(0.1 * attempt)
            snapshot = client.cluster if attempt == 0 else await client.fetch_all_metadata()
            if snapshot.partitions_for_topic(topic) is not None:
                self._known_topics.add(topic)
                return
        raise UnknownTopicError(f"topic {topic!r} does not exist")

    async def stop(self) -> None:
        await self._raw.stop()
