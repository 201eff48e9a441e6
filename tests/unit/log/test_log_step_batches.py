"""Step logs travel as one StepLogBatch per run and save; the log service stores each step, and
still reads the single StepLog messages older orchestrators sent."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.message import Message
from scenarist.run.v1.events_pb2 import StepLog, StepLogBatch
from scenarist_bus import envelope, topics
from scenarist_bus.envelope import DecodeError
from scenarist_bus.port import Record
from scenarist_log.convert import decode_steps
from scenarist_orchestrator.messages import steps_messages
from scenarist_storage.models import OutboxMessage

RUN, ORG = str(uuid.uuid4()), str(uuid.uuid4())


def _step(module_id: int, body: str = "[]") -> StepLog:
    step = StepLog(
        run_id=RUN, organization_id=ORG, module_id=module_id, task_id=f"{module_id}/0", output=body
    )
    step.started_at.FromSeconds(1_780_000_000 + module_id)
    return step


def _record(message: OutboxMessage) -> Record:
    return Record(message.topic, 0, 0, message.key, message.value, message.headers, 0)


def _wrapped(payload: Message, kind: str) -> Record:
    out = envelope.wrap(
        topics.LOGS_STEPS, payload, event_type=kind, run_id=RUN, organization_id=ORG, source="t"
    )
    return Record(out.topic, 0, 0, out.key, out.value, out.headers, 0)


def test_a_saves_steps_go_in_one_message_and_come_out_in_order() -> None:
    [message] = steps_messages([_step(n) for n in (1, 2, 3)], RUN, ORG)
    assert message.topic == topics.LOGS_STEPS and message.key == RUN.encode()
    stored = decode_steps(_record(message))
    assert [(s.module_id, s.task_id) for s in stored] == [("1", "1/0"), ("2", "2/0"), ("3", "3/0")]
    assert {s.run_id for s in stored} == {uuid.UUID(RUN)}


def test_steps_above_the_batch_size_are_split_in_order_and_a_big_one_travels_alone() -> None:
    small, big = "x" * 300, "y" * 5_000
    steps = [_step(1, small), _step(2, small), _step(3, big), _step(4, small)]
    out = steps_messages(steps, RUN, ORG, batch_bytes=1_000)
    decoded = [[s.module_id for s in decode_steps(_record(m))] for m in out]
    assert decoded == [["1", "2"], ["3"], ["4"]]


def test_no_steps_no_message() -> None:
    assert steps_messages([], RUN, ORG) == []


def test_a_single_step_message_from_an_older_orchestrator_is_still_stored() -> None:
    [stored] = decode_steps(_wrapped(_step(7), envelope.STEP_LOGGED))
    assert (stored.module_id, stored.task_id) == ("7", "7/0")


@pytest.mark.parametrize(
    ("batch", "reason"),
    [
        (StepLogBatch(), "without steps"),
        (StepLogBatch(steps=[_step(1), StepLog(run_id=RUN)]), "without task_id"),
    ],
)
def test_a_bad_batch_is_refused_whole(batch: StepLogBatch, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_steps(_wrapped(batch, envelope.STEPS_LOGGED))
