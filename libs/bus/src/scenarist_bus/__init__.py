"""The Bus port: Kafka (aiokafka) and in-process implementations, envelope codec, dead-letter topic.

Import the port types from here; pick an implementation with `scenarist_bus.local.LocalBus` (no
dependencies) or `scenarist_bus.kafka.KafkaBus` (imports aiokafka).
"""

from __future__ import annotations

from scenarist_bus.port import (
    Bus,
    BusClosedError,
    BusError,
    CommitFailedError,
    Consumer,
    ConsumerStateError,
    Headers,
    MessageTooLargeError,
    OutgoingMessage,
    ProduceError,
    Producer,
    RebalanceCallback,
    Record,
    RecordMetadata,
    TopicPartition,
    TopicSpec,
    UnknownTopicError,
    next_offsets,
)

__all__ = [
    "Bus",
    "BusClosedError",
    "BusError",
    "CommitFailedError",
    "Consumer",
    "ConsumerStateError",
    "Headers",
    "MessageTooLargeError",
    "OutgoingMessage",
    "ProduceError",
    "Producer",
    "RebalanceCallback",
    "Record",
    "RecordMetadata",
    "TopicPartition",
    "TopicSpec",
    "UnknownTopicError",
    "next_offsets",
]
