"""Random bodies, headers, methods and content types thrown at the ingress over real HTTP:
every answer is a 2xx or a 4xx problem+json, never a 5xx, and the service keeps answering."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarist.trigger.v1 import webhook_pb2
from trigger_support import TriggerStack, http_request

pytestmark = pytest.mark.integration

CONTENT_TYPES = st.sampled_from(
    [
        "",
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=zz",
        "text/plain",
        "text/plain; charset=bogus",
        "application/xml",
        "text/xml",
        "application/octet-stream",
        "image/png",
        "application/vnd.foo+json",
        ";;;",
    ]
) | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())
BODIES = (
    st.binary(max_size=600)
    | JSONISH
    | st.just(b"[" * 300 + b"]" * 300)
    | st.just(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    | st.just(
        b'--zz\r\nContent-Disposition: form-data; name="f"; filename="../x"\r\n\r\nA\r\n--zz--\r\n'
    )
)
HEADER_NAMES = st.sampled_from(
    [
        "x-make-apikey",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "idempotency-key",
        "content-encoding",
        "x-forwarded-for",
        "authorization",
        "x-custom",
    ]
)
HEADER_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)


@pytest.mark.parametrize("response_timeout", [0.05])
async def test_random_requests_never_cause_a_5xx(stack: TriggerStack) -> None:
    structure = json.dumps([{"name": "doc", "type": "buffer"}, {"name": "n", "type": "number"}])
    plain = (
        await stack.create(pass_headers=True, pass_method=True, data_structure=structure)
    ).webhook
    signed = (await stack.create(auth=webhook_pb2.WEBHOOK_AUTH_STANDARD_WEBHOOKS)).webhook
    basic = (await stack.create(auth=webhook_pb2.WEBHOOK_AUTH_BASIC, max_body_bytes=300)).webhook
    paths = [plain.url_path, signed.url_path, basic.url_path, "/hooks/unknown"]
    statuses: list[int] = []

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path=st.sampled_from(paths),
        query=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
        method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
        content_type=CONTENT_TYPES,
        body=BODIES,
        headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=4),
        basic_auth=st.booleans(),
    )
    def one_request(
        path: str,
        query: str,
        method: str,
        content_type: str,
        body: bytes,
        headers: dict[str, str],
        basic_auth: bool,
    ) -> None:
        sent = dict(headers)
        if content_type:
            sent["Content-Type"] = content_type
        if basic_auth:
            sent["Authorization"] = "Basic " + base64.b64encode(b"scenarist:x").decode()
        url = stack.url(path) + "?" + query.replace("#", "").replace(" ", "")
        reply = http_request(url, method, body, sent)
        statuses.append(reply.status)
        assert reply.status < 500, (reply.status, reply.body)
        if reply.status >= 400:
            assert reply.headers["content-type"] == "application/problem+json"
            problem = json.loads(reply.body)
            assert problem["status"] == reply.status and problem["title"] and problem["type"]

    await asyncio.to_thread(one_request)
    assert any(s < 300 for s in statuses) and any(s >= 400 for s in statuses)
    still_up = await stack.call(plain.url_path, b'{"n": 1}', {"Content-Type": "application/json"})
    assert still_up.status == 202
