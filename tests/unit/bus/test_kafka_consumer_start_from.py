"""A group that starts from a time (the trigger's reply consumer) places its fresh partitions
from one read of their ends taken before the lookup by time, never through aiokafka's
seek_to_end: that resolved each end later, one partition after another behind the fetch in
flight (up to 0.5 s each), and records sent meanwhile were skipped (half the cold starts of the
distributed run-path test answered 202 instead of the run's reply). A stand-in for aiokafka's
consumer records the calls; the contract suite checks the behaviour against a broker."""

from __future__ import annotations

from typing import Any

from aiokafka.structs import OffsetAndTimestamp
from aiokafka.structs import TopicPartition as KafkaTP
from scenarist_bus.kafka_consumer import KafkaConsumer
from scenarist_bus.port import TopicPartition

TOPIC = "scenarist.runs.events"
EMPTY, USED, COMMITTED = (KafkaTP(TOPIC, p) for p in range(3))


class _RawConsumer:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.positions: dict[KafkaTP, int] = {}

    async def committed(self, tp: KafkaTP) -> int | None:
        return 9 if tp == COMMITTED else None

    async def end_offsets(self, tps: list[KafkaTP]) -> dict[KafkaTP, int]:
        self.calls.append("end_offsets")
        return {tp: 40 + tp.partition for tp in tps}

    async def offsets_for_times(self, query: dict[KafkaTP, int]) -> dict[KafkaTP, Any]:
        self.calls.append("offsets_for_times")
        return {tp: OffsetAndTimestamp(12, 0) if tp == USED else None for tp in query}

    def seek(self, tp: KafkaTP, offset: int) -> None:
        self.positions[tp] = offset

    async def seek_to_end(self, *tps: KafkaTP) -> None:
        self.calls.append("seek_to_end")


async def test_fresh_partitions_start_at_the_time_or_at_the_end_read_before_it() -> None:
    raw = _RawConsumer()
    consumer = KafkaConsumer(
        raw, "replies", (TOPIC,), on_assigned=None, on_revoked=None, start_from_ms=1_000
    )
    assigned = frozenset(TopicPartition(TOPIC, p) for p in range(3))
    await consumer._seek_to_start(assigned, 1_000)
    assert raw.calls == ["end_offsets", "offsets_for_times"]  # ends first; no seek_to_end
    # The empty partition at the end read before the lookup, the used one at its first record
    # from the time on, the committed one left to its commit.
    assert raw.positions == {EMPTY: 40, USED: 12}
