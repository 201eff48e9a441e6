"""Webhook bodies above the claim-check threshold: a JSON object the bundle adds nothing to is
stored as it arrived (checked, never decoded); anything else is built into a bundle as before."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunRequested
from scenarist_runtime.claim_check import DEFAULT_THRESHOLD, claim_checks
from trigger_support import TriggerStack, assert_problem

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


def big_object(**extra: Any) -> bytes:
    records = [{"sku": f"sku-{i:06d}", "qty": i, "note": "x" * 40} for i in range(5000)]
    body = orjson.dumps({"records": records, **extra}, option=orjson.OPT_INDENT_2)
    assert len(body) > DEFAULT_THRESHOLD
    return body


async def stored_trigger(stack: TriggerStack, request: RunRequested) -> bytes:
    assert request.HasField("trigger_claim_check") and not request.trigger
    return await claim_checks(stack.hosted.host).resolve(b"", request.trigger_claim_check)


async def test_big_json_object_is_stored_as_it_arrived(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    body = big_object(note="caf\u00e9 \U0001f600", nested={"a": [[1.5, None, True]]})
    reply = await stack.call(hook.url_path, body, JSON)
    assert reply.status == 202, reply.body
    assert await stored_trigger(stack, await stack.next_request()) == body


async def test_big_body_with_query_is_still_merged_into_a_bundle(stack: TriggerStack) -> None:
    hook = (await stack.create(pass_method=True)).webhook
    reply = await stack.call(hook.url_path + "?extra=1", big_object(), JSON)
    assert reply.status == 202, reply.body
    bundle = orjson.loads(await stored_trigger(stack, await stack.next_request()))
    assert bundle["extra"] == "1" and bundle["__IMTMETHOD__"] == "POST"
    assert len(bundle["records"]) == 5000


@pytest.mark.parametrize(
    "tail",
    [b"", b"]", b', "n": NaN}', b', "n": 1e400}', b', "s": "\\ud800"}', b', "s": "\x01"}'],
)
async def test_big_invalid_json_is_refused(stack: TriggerStack, tail: bytes) -> None:
    hook = (await stack.create()).webhook
    body = big_object()[:-1] + tail  # the closing brace replaced
    assert_problem(await stack.call(hook.url_path, body, JSON), 400)


async def test_big_json_too_deep_is_refused(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    body = big_object()[:-1] + b', "deep": ' + b"[" * 70 + b"]" * 70 + b"}"
    problem = assert_problem(await stack.call(hook.url_path, body, JSON), 400)
    assert "nesting" in problem["detail"]
