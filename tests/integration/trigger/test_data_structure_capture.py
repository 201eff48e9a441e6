""" "Determine data structure": only an armed webhook records a request (the next one, bounded),
and the determined structure is saved on the webhook with UpdateWebhook."""

from __future__ import annotations

import json
from typing import Any

import grpc
import orjson
import pytest
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist_storage.models import Role
from trigger_support import TriggerStack, assert_problem

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


async def _capture(stack: TriggerStack, webhook_id: str) -> pb.DataStructureCapture:
    found = await stack.api.GetCapturedRequest(
        pb.GetCapturedRequestRequest(webhook_id=webhook_id), metadata=stack.auth
    )
    capture: pb.DataStructureCapture = found.capture
    return capture


async def test_only_the_next_request_after_arming_is_recorded(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    assert (await stack.call(hook.url_path, b'{"before": 1}', JSON)).status == 202
    untouched = await _capture(stack, hook.id)
    assert not untouched.waiting and not untouched.HasField("captured_at") and not untouched.body

    started = await stack.api.StartDataStructureCapture(
        pb.StartDataStructureCaptureRequest(webhook_id=hook.id), metadata=stack.auth
    )
    assert started.capture.waiting
    body = b'{"email": "ada@example.com", "items": [{"sku": "A1", "qty": 2}], "vip": true}'
    assert (await stack.call(hook.url_path + "?src=form", body, JSON)).status == 202
    captured = await _capture(stack, hook.id)
    assert not captured.waiting and captured.HasField("captured_at")
    assert captured.content_type == "application/json"
    # The body only, as the data structure checks it (query parameters are not part of it).
    assert orjson.loads(captured.body) == orjson.loads(body)
    assert (await stack.call(hook.url_path, b'{"later": 1}', JSON)).status == 202
    assert (await _capture(stack, hook.id)).body == captured.body  # disarmed after one


async def test_a_large_body_is_recorded_by_size_only(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    await stack.api.StartDataStructureCapture(
        pb.StartDataStructureCaptureRequest(webhook_id=hook.id), metadata=stack.auth
    )
    big = orjson.dumps({"blob": "x" * 70_000})
    assert (await stack.call(hook.url_path, big, JSON)).status == 202
    captured = await _capture(stack, hook.id)
    assert captured.too_large and not captured.body and captured.body_bytes > 64 * 1024


async def test_the_determined_structure_is_saved_and_enforced(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    structure = [{"name": "email", "type": "email", "required": True}]
    updated = await stack.api.UpdateWebhook(
        pb.UpdateWebhookRequest(
            webhook_id=hook.id,
            options=webhook_pb2.WebhookOptions(data_structure=json.dumps(structure)),
        ),
        metadata=stack.auth,
    )
    assert json.loads(updated.webhook.options.data_structure) == structure
    assert updated.webhook.name == hook.name  # empty name keeps it
    assert_problem(await stack.call(hook.url_path, b'{"other": 1}', JSON), 400)
    assert (await stack.call(hook.url_path, b'{"email": "a@b.co"}', JSON)).status == 202
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stack.api.UpdateWebhook(
            pb.UpdateWebhookRequest(
                webhook_id=hook.id,
                options=webhook_pb2.WebhookOptions(data_structure='[{"type": "text"}]'),
            ),
            metadata=stack.auth,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_viewers_cannot_arm_and_other_organizations_see_nothing(
    stack: TriggerStack,
) -> None:
    hook = (await stack.create()).webhook
    _, viewer = await stack.identity.create_token(stack.org, Role.VIEWER, "viewer")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stack.api.StartDataStructureCapture(
            pb.StartDataStructureCaptureRequest(webhook_id=hook.id),
            metadata=(("authorization", f"Bearer {viewer}"),),
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    other = (await stack.identity.create_organization("Other")).id
    _, outsider = await stack.identity.create_token(other, Role.EDITOR, "outsider")
    metadata = (("authorization", f"Bearer {outsider}"),)
    calls: list[Any] = [
        stack.api.StartDataStructureCapture(
            pb.StartDataStructureCaptureRequest(webhook_id=hook.id), metadata=metadata
        ),
        stack.api.GetCapturedRequest(
            pb.GetCapturedRequestRequest(webhook_id=hook.id), metadata=metadata
        ),
        stack.api.UpdateWebhook(
            pb.UpdateWebhookRequest(webhook_id=hook.id, name="x"), metadata=metadata
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await call
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
