"""step_data builds the stored proto JSON of a StepLog without json_format's descriptor walk;
it must give exactly what MessageToDict gives, for every field StepLog has."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.common.v1.claim_check_pb2 import ClaimCheck
from scenarist.common.v1.error_pb2 import Error
from scenarist.run.v1.events_pb2 import StepLog
from scenarist_log.convert import _MESSAGE_FIELDS, _SCALAR_FIELDS, _TIME_FIELDS, step_data


def _expected(step: StepLog) -> dict[str, object]:
    return json_format.MessageToDict(step, preserving_proto_field_name=True)


def test_every_steplog_field_is_known() -> None:
    known = {*_SCALAR_FIELDS, *_TIME_FIELDS, *_MESSAGE_FIELDS}
    assert {f.name for f in StepLog.DESCRIPTOR.fields} == known


def test_a_full_step_matches_message_to_dict() -> None:
    step = StepLog(
        run_id="r", organization_id="o", scenario_id="s", module_id=-3, task_id="3/0",
        attempt=2, cycle=1, input='{"a":1}', output="[]", module="http:MakeRequest",
        error=Error(type="RuntimeError", message="boom"),
        started_at=Timestamp(seconds=1_780_000_000, nanos=123_456_000),
        finished_at=Timestamp(seconds=1_780_000_001),
        input_claim_check=ClaimCheck(), output_claim_check=ClaimCheck(),
    )  # fmt: skip
    step.input_claim_check.MergeFrom(_some_claim_check())
    assert step_data(step) == _expected(step)


def test_defaults_are_left_out_like_message_to_dict() -> None:
    for step in (StepLog(), StepLog(task_id="1/0", module_id=0, attempt=0, input="")):
        assert step_data(step) == _expected(step)


def _some_claim_check() -> ClaimCheck:
    check = ClaimCheck()
    for field in check.DESCRIPTOR.fields:
        if field.type == field.TYPE_STRING:
            setattr(check, field.name, f"v-{field.name}")
        elif field.type in (field.TYPE_INT64, field.TYPE_UINT64, field.TYPE_INT32):
            setattr(check, field.name, 7)
    return check
