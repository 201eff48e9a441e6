"""The envelope every Scenarist Kafka message travels in, and its typed payloads.

A record's value is a `scenarist.common.v1.Envelope` (event id, type, run id, organization,
attempt, occurred-at) whose `payload` is the protobuf message named by `type`. Trace context
rides in the record headers, not in the envelope. Anything that does not decode is a
`DecodeError`, which consumers turn into a dead letter.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from scenarist.common.v1.envelope_pb2 import Envelope
from scenarist.run.v1.events_pb2 import (
    ModuleTask,
    RunEvent,
    RunRequested,
    StepLog,
    StepLogBatch,
    TaskResult,
)

from scenarist_bus.ids import new_id
from scenarist_bus.port import OutgoingMessage, Record

CONTENT_TYPE = "application/x-protobuf"

# Envelope type -> payload message. One table: producers and consumers agree through it.
RUN_REQUESTED = "scenarist.run.requested"
RUN_CANCEL = "scenarist.run.cancel"
TASK_MODULE = "scenarist.task.module"
TASK_RESULT = "scenarist.task.result"
RUN_EVENT = "scenarist.run.event"
STEP_LOGGED = "scenarist.step.logged"  # one step: what orchestrators before batches sent
STEPS_LOGGED = "scenarist.steps.logged"

PAYLOADS: dict[str, type[Message]] = {
    RUN_REQUESTED: RunRequested,
    RUN_CANCEL: RunRequested,
    TASK_MODULE: ModuleTask,
    TASK_RESULT: TaskResult,
    RUN_EVENT: RunEvent,
    STEP_LOGGED: StepLog,
    STEPS_LOGGED: StepLogBatch,
}

M = TypeVar("M", bound=Message)


class DecodeError(Exception):
    """A record that is not a valid envelope with a known, parseable payload."""


@dataclass(frozen=True, slots=True)
class Decoded:
    envelope: Envelope
    payload: Message
    record: Record


def wrap(
    topic: str,
    payload: Message,
    *,
    event_type: str,
    run_id: str,
    organization_id: str,
    source: str,
    attempt: int = 1,
    headers: Sequence[tuple[str, bytes]] = (),
    spread: bool = False,
) -> OutgoingMessage:
    """An outgoing record, keyed by run id unless `spread` says otherwise.

    Run-id keys put everything about one run on one partition (one orchestrator owns it).
    `spread` sends the record without a key, which the bus places round robin: module tasks
    use it so a run's fan-out splits evenly over the executors (hashing a key per task spread
    them at random: the busiest of four executors got ~6.5 % more than a quarter of a 1,000-task
    fan-out, of eight ~13 % more than an eighth, and the run waits for the busiest).
    """
    if PAYLOADS.get(event_type) is not type(payload):
        raise TypeError(f"{event_type} does not carry {type(payload).__name__}")
    envelope = Envelope(
        event_id=new_id(),
        type=event_type,
        run_id=run_id,
        organization_id=organization_id,
        attempt=attempt,
        content_type=CONTENT_TYPE,
        payload=payload.SerializeToString(),
        source=source,
    )
    envelope.occurred_at.FromNanoseconds(time.time_ns())
    return OutgoingMessage(
        topic=topic,
        value=envelope.SerializeToString(),
        key=None if spread else run_id.encode() or None,
        headers=tuple(headers),
    )


def unwrap(record: Record, *, accept: frozenset[str] | None = None) -> Decoded:
    """The envelope and its payload, or DecodeError saying what is wrong."""
    envelope = Envelope()
    try:
        envelope.ParseFromString(record.value)
    except (ProtobufDecodeError, ValueError) as exc:
        raise DecodeError(f"not an envelope: {exc}") from exc
    message_type = PAYLOADS.get(envelope.type)
    if message_type is None or (accept is not None and envelope.type not in accept):
        raise DecodeError(f"unexpected envelope type {envelope.type!r}")
    if envelope.content_type not in ("", CONTENT_TYPE):
        raise DecodeError(f"unsupported content type {envelope.content_type!r}")
    payload = message_type()
    try:
        payload.ParseFromString(envelope.payload)
    except (ProtobufDecodeError, ValueError) as exc:
        raise DecodeError(f"bad {envelope.type} payload: {exc}") from exc
    if not envelope.run_id:
        raise DecodeError("envelope without run id")
    return Decoded(envelope, payload, record)


def payload_as(decoded: Decoded, message_type: type[M]) -> M:
    if not isinstance(decoded.payload, message_type):
        raise DecodeError(f"expected {message_type.__name__}, got {type(decoded.payload).__name__}")
    return decoded.payload
