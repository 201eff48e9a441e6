"""problem+json shape, data structure validation, sealing and scenario answers."""

from __future__ import annotations

import uuid

import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist_trigger.crypto import SealError, SecretBox
from scenarist_trigger.problems import Problem, problem_response
from scenarist_trigger.replies import SANDBOX_CSP, from_event, scenario_response
from scenarist_trigger.structure import StructureError, parse_structure, validate


def test_problem_json_shape() -> None:
    problem = Problem(429, "rate-limited", "Too many", "slow down", headers={"Retry-After": "3"})
    response = problem_response(problem)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "3"
    body = orjson.loads(response.body)
    assert set(body) == {"type", "title", "status", "detail"} and body["status"] == 429
    with pytest.raises(ValueError):
        Problem(500, "x", "y", "z")


def test_structure_reports_every_mismatch() -> None:
    specs = parse_structure(
        [
            {"name": "email", "type": "email", "required": True},
            {"name": "age", "type": "integer"},
            {"name": "tags", "type": "text", "multiple": True},
            {"name": "addr", "type": "collection", "fields": [{"name": "zip", "required": True}]},
            {"name": "doc", "type": "buffer"},
        ]
    )
    data = {"age": "x", "tags": "a", "addr": {}, "doc": {"name": "a", "data": "AA=="}}
    assert validate(specs, data, {}) == [
        "email: is required",
        "age: must be a integer",
        "tags: must be a list",
        "addr.zip: is required",
        "doc: must be an uploaded file (multipart/form-data)",
    ]
    upload = {"name": "a"}
    good = {"email": "a@b.c", "age": "42", "tags": ["x"], "addr": {"zip": "1"}, "doc": upload}
    assert validate(specs, good, {"doc": upload}) == []


def test_invalid_structure_definition() -> None:
    with pytest.raises(StructureError):
        parse_structure([{"type": "text"}])
    with pytest.raises(StructureError):
        parse_structure({"name": "x"})


def test_secret_box_binds_to_the_webhook() -> None:
    box, me, other = SecretBox(b"k" * 32), uuid.uuid4().bytes, uuid.uuid4().bytes
    sealed = box.seal(b"whsec_abc", me)
    assert box.open(sealed, me) == b"whsec_abc" and b"whsec" not in sealed
    with pytest.raises(SealError):
        box.open(sealed, other)
    with pytest.raises(SealError):
        SecretBox(b"j" * 32).open(sealed, me)


def test_scenario_answer_with_custom_status_and_headers() -> None:
    response = scenario_response(
        {
            "status": 201,
            "headers": [
                {"key": "X-Order", "value": "7"},
                {"key": "Set-Cookie", "value": "session=stolen"},
                {"key": "Bad Name", "value": "x"},
                {"key": "X-Split", "value": "a\r\nInjected: 1"},
            ],
            "body": {"ok": True},
        }
    )
    assert response.status_code == 201 and response.headers["x-order"] == "7"
    assert "set-cookie" not in response.headers and "x-split" not in response.headers
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_html_answers_are_sandboxed() -> None:
    response = scenario_response(
        {"status": 200, "headers": {"Content-Type": "text/html"}, "body": "<script>x</script>"}
    )
    assert response.headers["content-security-policy"] == SANDBOX_CSP
    assert response.headers["x-content-type-options"] == "nosniff"


def test_finished_without_answer_is_accepted() -> None:
    event = RunEvent(run_id="r", type=RunEventType.RUN_EVENT_TYPE_FINISHED)
    response = from_event(event, "r")
    assert response.status_code == 200
    assert orjson.loads(response.body) == {"accepted": True, "run_id": "r"}
