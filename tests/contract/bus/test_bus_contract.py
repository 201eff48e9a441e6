"""The Bus port contract: every test runs against LocalBus and KafkaBus (see conftest.py).

Waits are bounded polls (`pump`): consumer-group joins on Kafka take a moment, LocalBus is
immediate, and the same test must hold for both.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from scenarist_bus.dlq import (
    H_ERROR_TYPE,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
    H_REASON,
    decode_batch_or_dead_letter,
)
from scenarist_bus.partitioner import partition_for_key
from scenarist_bus.port import (
    Bus,
    CommitFailedError,
    Consumer,
    MessageTooLargeError,
    OutgoingMessage,
    Record,
    TopicPartition,
    TopicSpec,
    UnknownTopicError,
)

pytestmark = [pytest.mark.contract, pytest.mark.timeout(120)]

DEADLINE_S = 30.0

NewTopic = Callable[[int], Awaitable[str]]  # the new_topic fixture (conftest.py)


@dataclass
class Member:
    """A consumer plus everything it received and every rebalance callback it saw."""

    consumer: Consumer
    records: list[Record] = field(default_factory=list)
    events: list[tuple[str, frozenset[TopicPartition]]] = field(default_factory=list)

    def values(self) -> list[bytes]:
        return [r.value for r in self.records]


def member(bus: Bus, group_id: str, topics: list[str]) -> Member:
    events: list[tuple[str, frozenset[TopicPartition]]] = []

    async def assigned(tps: frozenset[TopicPartition]) -> None:
        events.append(("assigned", tps))

    async def revoked(tps: frozenset[TopicPartition]) -> None:
        events.append(("revoked", tps))

    consumer = bus.consumer(group_id, topics, on_assigned=assigned, on_revoked=revoked)
    return Member(consumer, events=events)


async def pump(members: list[Member], until: Callable[[], bool], what: str) -> None:
    """Poll every member concurrently (keeping what they receive) until `until()` holds."""
    deadline = time.monotonic() + DEADLINE_S
    while not until():
        if time.monotonic() > deadline:
            got = {
                i: (len(m.records), sorted(m.consumer.assignment())) for i, m in enumerate(members)
            }
            pytest.fail(f"timed out after {DEADLINE_S}s waiting for {what}; members: {got}")
        batches = await asyncio.gather(*(m.consumer.getmany(timeout_ms=100) for m in members))
        for m, batch in zip(members, batches, strict=True):
            m.records.extend(batch)


def all_tps(topic: str, partitions: int) -> frozenset[TopicPartition]:
    return frozenset(TopicPartition(topic, p) for p in range(partitions))


def by_key(n: int, keys: list[bytes], topic: str) -> list[OutgoingMessage]:
    return [OutgoingMessage(topic, f"{i}".encode(), key=keys[i % len(keys)]) for i in range(n)]


async def test_round_trip_with_headers_and_keys(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(3)
    producer = await bus.producer()
    before_ms = time.time() * 1000 - 5_000
    keyed = await producer.send(
        OutgoingMessage(
            topic, b"hello", key=b"run-1", headers=(("traceparent", b"00-ab"), ("x", b""))
        )
    )
    keyless = await producer.send(OutgoingMessage(topic, b"no key"))
    assert keyed.topic == topic and keyed.partition == partition_for_key(b"run-1", 3)

    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: len(m.records) >= 2, "both records")
    await m.consumer.stop(commit=m.records)

    got = {r.value: r for r in m.records}
    assert len(m.records) == 2
    first = got[b"hello"]
    assert (first.topic, first.partition, first.offset) == (topic, keyed.partition, keyed.offset)
    assert first.key == b"run-1"
    assert first.headers == (("traceparent", b"00-ab"), ("x", b""))
    assert first.header("traceparent") == b"00-ab"
    assert before_ms < first.timestamp_ms < time.time() * 1000 + 5_000
    second = got[b"no key"]
    assert second.key is None and second.headers == ()
    assert (second.partition, second.offset) == (keyless.partition, keyless.offset)


async def test_keyless_records_are_dealt_evenly_over_the_partitions(
    bus: Bus, new_topic: NewTopic
) -> None:
    # Module tasks go keyless so a fan-out splits evenly over the executors: round robin, not
    # a random pick per record (aiokafka's default), which leaves some partitions short.
    topic = await new_topic(6)
    producer = await bus.producer()
    sent = await producer.send_batch([OutgoingMessage(topic, b"%d" % i) for i in range(60)])
    assert Counter(m.partition for m in sent) == dict.fromkeys(range(6), 10)


async def test_same_key_same_partition_in_order(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(4)
    keys = [b"run-a", b"run-b", b"run-c", b"run-d", b"run-e"]
    producer = await bus.producer()
    await producer.send_batch(by_key(100, keys, topic))

    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: len(m.records) >= 100, "100 records")
    await m.consumer.stop()

    for key in keys:
        mine = [r for r in m.records if r.key == key]
        assert {r.partition for r in mine} == {partition_for_key(key, 4)}
        assert [int(r.value) for r in mine] == sorted(int(r.value) for r in mine)
        assert [r.offset for r in mine] == sorted(r.offset for r in mine)


async def test_send_batch_acknowledges_every_record(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(3)
    producer = await bus.producer()
    msgs = by_key(300, [f"k{i}".encode() for i in range(17)], topic)
    acks = await producer.send_batch(msgs)

    assert len(acks) == 300
    assert all(a.topic == topic for a in acks)
    for msg, ack in zip(msgs, acks, strict=True):
        assert msg.key is not None and ack.partition == partition_for_key(msg.key, 3)
    for p in range(3):
        offsets = [a.offset for a in acks if a.partition == p]
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))  # in order, no gaps

    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: len(m.records) >= 300, "300 records")
    await m.consumer.stop()
    assert sorted(m.values()) == sorted(msg.value for msg in msgs)


async def test_group_splits_partitions_and_each_record_goes_to_one_member(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(4)
    a, b = member(bus, group_id, [topic]), member(bus, group_id, [topic])
    await a.consumer.start()
    await b.consumer.start()

    def split() -> bool:
        sa, sb = a.consumer.assignment(), b.consumer.assignment()
        return bool(sa) and bool(sb) and not (sa & sb) and sa | sb == all_tps(topic, 4)

    await pump([a, b], split, "the partitions to be split")
    producer = await bus.producer()
    await producer.send_batch(by_key(80, [f"run-{i}".encode() for i in range(20)], topic))
    await pump([a, b], lambda: len(a.records) + len(b.records) >= 80, "80 records")
    await asyncio.gather(a.consumer.stop(commit=a.records), b.consumer.stop(commit=b.records))

    assert sorted(a.values() + b.values(), key=int) == [f"{i}".encode() for i in range(80)]
    assert a.records and b.records
    assert {r.tp for r in a.records}.isdisjoint({r.tp for r in b.records})


async def test_new_member_resumes_after_committed_offset(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage(topic, f"{i}".encode()) for i in range(10)])

    first = member(bus, group_id, [topic])
    await first.consumer.start()
    await pump([first], lambda: len(first.records) >= 10, "10 records")
    await first.consumer.commit(first.records[:6])  # processed 0..5, crashed before the rest
    await first.consumer.stop()

    second = member(bus, group_id, [topic])
    await second.consumer.start()
    await pump([second], lambda: len(second.records) >= 4, "the 4 uncommitted records")
    await second.consumer.stop(commit=second.records)
    assert second.values() == [b"6", b"7", b"8", b"9"]
    assert second.records[0].offset == first.records[6].offset


async def test_uncommitted_records_are_redelivered_after_a_member_stops(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(2)
    a, b = member(bus, group_id, [topic]), member(bus, group_id, [topic])
    await a.consumer.start()
    await b.consumer.start()
    await pump(
        [a, b],
        lambda: len(a.consumer.assignment()) == 1 and len(b.consumer.assignment()) == 1,
        "one partition each",
    )
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage(topic, f"{i}".encode()) for i in range(40)])
    await pump([a, b], lambda: len(a.records) + len(b.records) >= 40, "40 records")
    await b.consumer.commit(b.records)
    lost = {(r.partition, r.offset) for r in a.records}
    assert lost

    await a.consumer.stop()  # leaves without committing anything it fetched
    b_before = len(b.records)
    await pump([b], lambda: len(b.records) - b_before >= len(lost), "a's records redelivered")
    redelivered = {(r.partition, r.offset) for r in b.records[b_before:]}
    assert redelivered == lost
    await b.consumer.stop(commit=b.records)


async def test_rebalance_callbacks_fire_on_join_and_leave(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(4)
    everything = all_tps(topic, 4)
    a = member(bus, group_id, [topic])
    await a.consumer.start()
    await pump([a], lambda: ("assigned", everything) in a.events, "a to own everything")

    b = member(bus, group_id, [topic])
    await b.consumer.start()
    await pump([a, b], lambda: any(e[0] == "assigned" for e in b.events), "b's assignment")
    await pump([a, b], lambda: len(a.consumer.assignment()) == 2, "a to settle on two")
    # Eager protocol: a first loses everything, then gets its new share.
    assert a.events[0] == ("assigned", everything)
    assert ("revoked", everything) in a.events[1:]
    assert a.events[-1] == ("assigned", a.consumer.assignment())
    assert b.events[-1] == ("assigned", b.consumer.assignment())
    b_share = b.consumer.assignment()

    await b.consumer.stop()
    assert b.events[-1] == ("revoked", b_share)  # leaving fires revoked: last chance to commit
    await pump([a], lambda: a.consumer.assignment() == everything, "a to own everything again")
    assert a.events[-1] == ("assigned", everything)
    await a.consumer.stop()
    assert a.events[-1] == ("revoked", everything)


async def test_commit_of_a_revoked_partition_is_refused(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(2)
    producer = await bus.producer()
    await producer.send_batch(
        [OutgoingMessage(topic, b"x", key=f"{i}".encode()) for i in range(20)]
    )
    a = member(bus, group_id, [topic])
    await a.consumer.start()
    await pump([a], lambda: len({r.partition for r in a.records}) == 2, "records of both")

    b = member(bus, group_id, [topic])
    await b.consumer.start()
    await pump([a, b], lambda: len(b.consumer.assignment()) == 1, "b to take a partition")
    taken = next(iter(b.consumer.assignment()))
    stale = [r for r in a.records if r.tp == taken]
    with pytest.raises(CommitFailedError):
        await a.consumer.commit(stale)  # a stale owner must not move the new owner's offsets
    await asyncio.gather(a.consumer.stop(), b.consumer.stop())


async def test_dead_letter_records_carry_the_reason(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic, dlq = await new_topic(2), await new_topic(1)
    producer = await bus.producer()
    await producer.send(OutgoingMessage(topic, b"ok", key=b"k"))
    poison = await producer.send(
        OutgoingMessage(topic, b"\xff not json", key=b"k", headers=(("traceparent", b"00-1"),))
    )

    def decode(record: Record) -> str:
        return record.value.decode("utf-8")

    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: len(m.records) >= 2, "both records")
    decoded = await decode_batch_or_dead_letter(producer, m.records, decode, topic=dlq)
    await m.consumer.stop(commit=m.records)  # the whole batch, poison included
    assert [v for _, v in decoded.ok] == ["ok"]
    assert [r.offset for r in decoded.dead_lettered] == [poison.offset]

    d = member(bus, f"{group_id}-dlq", [dlq])
    await d.consumer.start()
    await pump([d], lambda: len(d.records) >= 1, "the dead letter")
    await d.consumer.stop()
    dead = d.records[0]
    assert (dead.key, dead.value) == (b"k", b"\xff not json")
    assert dead.header("traceparent") == b"00-1"
    assert dead.header(H_ORIGINAL_TOPIC) == topic.encode()
    assert dead.header(H_ORIGINAL_PARTITION) == str(poison.partition).encode()
    assert dead.header(H_ORIGINAL_OFFSET) == str(poison.offset).encode()
    assert dead.header(H_ERROR_TYPE) == b"UnicodeDecodeError"
    assert b"can't decode" in (dead.header(H_REASON) or b"")


async def test_getmany_times_out_with_an_empty_list(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: bool(m.consumer.assignment()), "an assignment")
    started = time.monotonic()
    assert await m.consumer.getmany(timeout_ms=300) == []
    assert 0.2 <= time.monotonic() - started < 5
    await m.consumer.stop()


async def test_pause_and_resume(bus: Bus, new_topic: NewTopic, group_id: str) -> None:
    topic = await new_topic(1)
    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: bool(m.consumer.assignment()), "an assignment")
    m.consumer.pause(m.consumer.assignment())
    producer = await bus.producer()
    await producer.send(OutgoingMessage(topic, b"held"))
    assert await m.consumer.getmany(timeout_ms=300) == []
    m.consumer.resume(m.consumer.assignment())
    await pump([m], lambda: m.values() == [b"held"], "the record after resume")
    await m.consumer.stop(commit=m.records)


async def test_unknown_topics_and_oversized_records_fail_fast(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    producer = await bus.producer()
    with pytest.raises(UnknownTopicError):
        await producer.send(OutgoingMessage(f"{topic}.missing", b"x"))
    with pytest.raises(UnknownTopicError):
        await bus.consumer(group_id, [f"{topic}.missing"]).start()
    with pytest.raises(MessageTooLargeError):
        await producer.send(OutgoingMessage(topic, b"x" * 2_000_000))


async def test_create_topics_is_idempotent_and_grows_partitions(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(2)
    await bus.create_topics([TopicSpec(topic, 2)])  # again: no error, no change
    await bus.create_topics([TopicSpec(topic, 4)])
    m = member(bus, group_id, [topic])
    await m.consumer.start()
    await pump([m], lambda: m.consumer.assignment() == all_tps(topic, 4), "all four partitions")
    await m.consumer.stop()


async def _after_now_ms() -> int:
    """A timestamp no record sent so far can carry (bounded poll past the current ms)."""
    since = int(time.time() * 1000) + 1
    async with asyncio.timeout(5.0):
        while time.time() * 1000 <= since:
            await asyncio.sleep(0.001)
    return since


async def test_a_new_group_can_start_from_a_time(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(3)
    producer = await bus.producer()
    await producer.send_batch(by_key(9, [b"a", b"b", b"c"], topic))  # before: never read
    since = await _after_now_ms()
    keys = [b"a", b"b", b"c"]
    await producer.send_batch(
        [OutgoingMessage(topic, f"new-{i}".encode(), key=key) for i, key in enumerate(keys)]
    )
    fresh = bus.consumer(group_id, [topic], start_from_ms=since)
    await fresh.start()
    got: list[Record] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < 3 and time.monotonic() < deadline:
        got.extend(await fresh.getmany(timeout_ms=100))
    await producer.send(OutgoingMessage(topic, b"after-start", key=b"a"))
    while len(got) < 4 and time.monotonic() < deadline:
        got.extend(await fresh.getmany(timeout_ms=100))
    await fresh.stop(commit=got)
    assert sorted(r.value for r in got) == [b"after-start", b"new-0", b"new-1", b"new-2"]


async def test_a_group_starting_from_a_time_misses_nothing_sent_while_it_joins(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    # The trigger's reply consumer starts this way: a run's answer sent while it was still
    # joining must reach it. An empty partition starts at its end, and where that end was read
    # only after the join (one partition after another), records sent meanwhile were skipped
    # and the caller waited for its reply in vain.
    topic = await new_topic(12)
    producer = await bus.producer()
    since = int(time.time() * 1000) - 60_000
    fresh = bus.consumer(group_id, [topic], start_from_ms=since)
    await fresh.start()
    sent: list[bytes] = []
    got: list[Record] = []
    # Waves while the consumer joins and finds its positions (keyless: one record on every
    # partition each), until it has received some; then a last wave.
    wave = 0
    deadline = time.monotonic() + DEADLINE_S
    while (not got or wave < 50) and time.monotonic() < deadline:
        batch = [f"{wave}-{i}".encode() for i in range(12)]
        await producer.send_batch([OutgoingMessage(topic, value) for value in batch])
        sent += batch
        wave += 1
        got.extend(await fresh.getmany(timeout_ms=5))
    while len(got) < len(sent) and time.monotonic() < deadline:
        got.extend(await fresh.getmany(timeout_ms=100))
    await fresh.stop(commit=got)
    assert sorted(r.value for r in got) == sorted(sent)


async def test_start_from_a_time_does_not_override_committed_offsets(
    bus: Bus, new_topic: NewTopic, group_id: str
) -> None:
    topic = await new_topic(1)
    producer = await bus.producer()
    await producer.send_batch([OutgoingMessage(topic, f"{i}".encode()) for i in range(4)])
    first = member(bus, group_id, [topic])
    await first.consumer.start()
    await pump([first], lambda: len(first.records) >= 4, "4 records")
    await first.consumer.commit(first.records[:2])
    await first.consumer.stop()
    # A time after every record: without a commit this group would start at the end.
    resumed = bus.consumer(group_id, [topic], start_from_ms=await _after_now_ms())
    await resumed.start()
    got: list[Record] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < 2 and time.monotonic() < deadline:
        got.extend(await resumed.getmany(timeout_ms=100))
    await resumed.stop(commit=got)
    assert [r.value for r in got] == [b"2", b"3"]
