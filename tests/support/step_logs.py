"""The steps in logs.steps payloads, whichever message carries them."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message
from scenarist.run.v1.events_pb2 import StepLog, StepLogBatch


def steps_in(payloads: Iterable[Message]) -> list[StepLog]:
    """Every StepLog, in order: a batch's steps, a lone StepLog as itself, anything else none."""
    steps: list[StepLog] = []
    for payload in payloads:
        if isinstance(payload, StepLogBatch):
            steps.extend(payload.steps)
        elif isinstance(payload, StepLog):
            steps.append(payload)
    return steps
