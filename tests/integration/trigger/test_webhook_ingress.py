"""The webhook ingress over real HTTP, with Postgres, gRPC management and the in-process bus."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import grpc
import orjson
import pytest
from scenarist.run.v1.events_pb2 import RunEvent, RunEventType
from scenarist.run.v1.run_pb2 import TRIGGER_SOURCE_WEBHOOK
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as pb
from scenarist_storage.models import Role
from scenarist_trigger.credentials import sign, signing_key
from trigger_support import TriggerStack, assert_problem

pytestmark = pytest.mark.integration


async def test_json_post_is_queued_with_query_merged(stack: TriggerStack) -> None:
    created = await stack.create(pass_method=True)
    hook = created.webhook
    assert hook.url_path.startswith("/hooks/") and len(hook.url_path) > 40
    assert not created.HasField("secret")
    reply = await stack.call(
        hook.url_path + "?b=query&c=3",
        b'{"a": 1, "b": "body"}',
        {"Content-Type": "application/json"},
    )
    assert reply.status == 202, reply.body
    request = await stack.next_request()
    assert reply.json() == {"accepted": True, "run_id": request.run_id, "status": "queued"}
    assert orjson.loads(request.trigger) == {
        "a": 1,
        "b": "query",
        "c": "3",
        "__IMTMETHOD__": "POST",
    }
    assert request.scenario_id == hook.scenario_id and request.organization_id == str(stack.org)
    assert request.source == TRIGGER_SOURCE_WEBHOOK and request.source_ref == hook.id
    assert request.scenario_version == 0 and request.reply_to and not request.idempotency_key


async def test_unknown_detached_and_rotated_urls(stack: TriggerStack) -> None:
    assert_problem(await stack.call("/hooks/" + "x" * 43, b"{}"), 404)
    detached = (await stack.create(scenario_id="")).webhook
    assert_problem(await stack.call(detached.url_path, b""), 410)
    hook = (await stack.create()).webhook
    rotated = await stack.api.RotateWebhook(
        pb.RotateWebhookRequest(webhook_id=hook.id, rotate_url=True), metadata=stack.auth
    )
    assert rotated.webhook.url_path != hook.url_path
    assert_problem(await stack.call(hook.url_path, b""), 404)
    assert (await stack.call(rotated.webhook.url_path, b"", method="GET")).status == 202


async def _signed_hook(stack: TriggerStack) -> tuple[str, bytes]:
    created = await stack.create(auth=webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS)
    secret = created.secret.signing_secret
    assert secret.startswith("whsec_")
    return created.webhook.url_path, signing_key(secret)


def _signed_headers(key: bytes, body: bytes, msg_id: str, ts: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if ts is None else ts
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(key, msg_id, stamp, body),
    }


async def test_standard_webhooks_signatures(stack: TriggerStack) -> None:
    path, key = await _signed_hook(stack)
    body = b'{"amount": 10, "currency": "EUR"}'
    good = _signed_headers(key, body, "msg_1")
    assert (await stack.call(path, body, good)).status == 202
    assert (await stack.next_request()).idempotency_key == "msg_1"

    missing = assert_problem(
        await stack.call(path, body, {"Content-Type": "application/json"}), 401
    )
    assert "missing" in missing["detail"]
    wrong = _signed_headers(signing_key(base64.b64encode(b"w" * 32).decode()), body, "msg_2")
    assert_problem(await stack.call(path, body, wrong), 401)
    stale = _signed_headers(key, body, "msg_3", ts=int(time.time()) - 600)
    assert "tolerance" in assert_problem(await stack.call(path, body, stale), 401)["detail"]
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert_problem(await stack.call(path, reserialized, good), 401)

    # A replay of the same delivery carries the same webhook-id: the orchestrator starts one run.
    assert (await stack.call(path, body, good)).status == 202
    assert (await stack.next_request()).idempotency_key == "msg_1"


async def test_rotated_signing_secret_keeps_the_old_one_for_its_grace_period(
    stack: TriggerStack,
) -> None:
    path, old_key = await _signed_hook(stack)
    hooks = await stack.api.ListWebhooks(pb.ListWebhooksRequest(), metadata=stack.auth)
    hook_id = next(h.id for h in hooks.webhooks if h.url_path == path)
    request = pb.RotateWebhookRequest(webhook_id=hook_id, rotate_secret=True)
    request.previous_secret_ttl.FromSeconds(3600)
    rotated = await stack.api.RotateWebhook(request, metadata=stack.auth)
    new_key = signing_key(rotated.secret.signing_secret)
    body = b"{}"
    for key in (old_key, new_key):
        reply = await stack.call(path, body, _signed_headers(key, body, str(uuid.uuid4())))
        assert reply.status == 202


async def test_api_key_and_basic_auth(stack: TriggerStack) -> None:
    keyed = await stack.create(auth=webhook_pb2.WEBHOOK_AUTH_API_KEY)
    key = keyed.secret.api_key
    assert_problem(await stack.call(keyed.webhook.url_path, b""), 401)
    assert_problem(await stack.call(keyed.webhook.url_path, b"", {"x-make-apikey": "nope"}), 401)
    assert (await stack.call(keyed.webhook.url_path, b"", {"x-make-apikey": key})).status == 202
    assert (await stack.call(keyed.webhook.url_path, b"", {"x-api-key": key})).status == 202
    basic = await stack.create(auth=webhook_pb2.WEBHOOK_AUTH_BASIC)
    user, password = basic.secret.basic.username, basic.secret.basic.password
    good = base64.b64encode(f"{user}:{password}".encode()).decode()
    bad = base64.b64encode(f"{user}:wrong".encode()).decode()
    refused = await stack.call(basic.webhook.url_path, b"", {"Authorization": f"Basic {bad}"})
    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"].startswith("Basic")
    ok = await stack.call(basic.webhook.url_path, b"", {"Authorization": f"Basic {good}"})
    assert ok.status == 202


async def test_ip_allow_list_uses_the_socket_peer(stack: TriggerStack) -> None:
    outside = (await stack.create(ip_allow_list=["203.0.113.0/24"])).webhook
    spoofed = {"X-Forwarded-For": "203.0.113.5"}
    assert_problem(await stack.call(outside.url_path, b"", spoofed), 403)
    inside = (await stack.create(ip_allow_list=["192.0.2.0/24", "127.0.0.0/8"])).webhook
    assert (await stack.call(inside.url_path, b"")).status == 202


async def test_json_body_never_fills_file_fields(stack: TriggerStack) -> None:
    structure = json.dumps([{"name": "doc", "type": "buffer", "required": True}])
    hook = (await stack.create(data_structure=structure)).webhook
    confused = b'{"doc": {"name": "x", "filepath": "/etc/passwd", "data": "AA=="}}'
    refused = await stack.call(hook.url_path, confused, {"Content-Type": "application/json"})
    assert "uploaded file" in assert_problem(refused, 400)["errors"][0]
    boundary = "b0undary"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="doc"; '
        f'filename="/etc/passwd"\r\nContent-Type: text/plain\r\n\r\nroot\r\n--{boundary}--\r\n'
    ).encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    assert (
        await stack.call(hook.url_path, multipart, {"Content-Type": content_type})
    ).status == 202
    doc = orjson.loads((await stack.next_request()).trigger)["doc"]
    assert doc["name"] == "passwd" and doc["size"] == 4 and base64.b64decode(doc["data"]) == b"root"


async def test_size_depth_and_encoding_limits(stack: TriggerStack) -> None:
    hook = (await stack.create(max_body_bytes=1000)).webhook
    json_type = {"Content-Type": "application/json"}
    big = b'{"a": "' + b"x" * 2000 + b'"}'
    assert_problem(await stack.call(hook.url_path, big, json_type), 413)
    deep = b"[" * 100 + b"]" * 100
    assert (
        "nesting" in assert_problem(await stack.call(hook.url_path, deep, json_type), 400)["detail"]
    )
    gzipped = {**json_type, "Content-Encoding": "gzip"}
    assert_problem(await stack.call(hook.url_path, b"\x1f\x8b", gzipped), 415)
    structure = json.dumps([{"name": "email", "type": "email", "required": True}])
    strict = (await stack.create(data_structure=structure)).webhook
    mismatch = assert_problem(await stack.call(strict.url_path, b"{}", json_type), 400)
    assert mismatch["errors"] == ["email: is required"]


async def test_rate_limit_answers_429_with_retry_after(stack: TriggerStack) -> None:
    hook = (await stack.create(rate_per_minute=2)).webhook
    assert [(await stack.call(hook.url_path, b"")).status for _ in range(2)] == [202, 202]
    limited = await stack.call(hook.url_path, b"")
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


async def test_duplicate_deliveries_share_the_idempotency_key(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    headers = {"Idempotency-Key": "order-42", "Content-Type": "text/plain"}
    replies = [await stack.call(hook.url_path, b"hi", headers) for _ in range(3)]
    assert [r.status for r in replies] == [202] * 3
    keys = [(await stack.next_request()).idempotency_key for _ in range(3)]
    assert keys == ["order-42"] * 3


async def _answer(stack: TriggerStack, result: str, kind: RunEventType.ValueType) -> None:
    request = await stack.next_request()
    event = RunEvent(
        run_id=request.run_id,
        organization_id=request.organization_id,
        scenario_id=request.scenario_id,
        type=kind,
        reply_to=request.reply_to,
        result=result,
    )
    await stack.publish_event(event)


@pytest.mark.parametrize("response_timeout", [10.0])
async def test_synchronous_response_with_custom_status_and_headers(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    json_type = {"Content-Type": "application/json"}
    call = asyncio.create_task(stack.call(hook.url_path, b"{}", json_type))
    answer = {
        "status": 201,
        "headers": [
            {"key": "X-Order", "value": "42"},
            {"key": "Content-Type", "value": "text/html"},
        ],
        "body": "<h1>thanks</h1>",
    }
    await _answer(stack, json.dumps(answer), RunEventType.RUN_EVENT_TYPE_OPERATION)
    reply = await call
    assert reply.status == 201 and reply.body == b"<h1>thanks</h1>"
    assert reply.headers["x-order"] == "42"
    assert reply.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert reply.headers["x-content-type-options"] == "nosniff"

    call = asyncio.create_task(stack.call(hook.url_path, b"{}", json_type))
    await _answer(stack, "", RunEventType.RUN_EVENT_TYPE_FINISHED)
    finished = await call
    assert finished.status == 200 and finished.json()["accepted"] is True


async def test_management_is_org_scoped_and_role_checked(stack: TriggerStack) -> None:
    hook = (await stack.create()).webhook
    other_org = (await stack.identity.create_organization("Other")).id
    _, other = await stack.identity.create_token(other_org, Role.EDITOR, "x")
    foreign = (("authorization", f"Bearer {other}"),)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stack.api.GetWebhook(pb.GetWebhookRequest(webhook_id=hook.id), metadata=foreign)
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    _, viewer = await stack.identity.create_token(stack.org, Role.VIEWER, "v")
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stack.api.DeleteWebhook(
            pb.DeleteWebhookRequest(webhook_id=hook.id),
            metadata=(("authorization", f"Bearer {viewer}"),),
        )
    assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stack.create(ip_allow_list=["not-a-cidr"])
    assert invalid.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    await stack.api.DeleteWebhook(pb.DeleteWebhookRequest(webhook_id=hook.id), metadata=stack.auth)
    assert_problem(await stack.call(hook.url_path, b""), 404)
