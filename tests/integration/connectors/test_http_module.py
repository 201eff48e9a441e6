"""http:MakeRequest end to end against a local fake server, opened through the allow list."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from scenarist_connector_sdk import (
    BlockedTargetError,
    ConnectorRuntime,
    HttpLimits,
    NetPolicy,
    Registry,
    ResponseTooLargeError,
    RuntimeSettings,
    errors,
)
from scenarist_connector_sdk.testing import FakeHttpServer, FakeRequest, FakeResponse
from scenarist_connectors.http import connector as http_app

pytestmark = pytest.mark.integration

SECRET = "k3y-Do-Not-Leak-42"


def echo(request: FakeRequest) -> FakeResponse:
    return FakeResponse.of_json(
        {
            "method": request.method,
            "query": request.query,
            "headers": request.headers,
            "body": request.body.decode(errors="replace"),
        }
    )


@pytest.fixture
def server() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as fake:
        fake.route("*", "/echo", echo)
        yield fake


@pytest.fixture
async def runtime() -> AsyncIterator[ConnectorRuntime]:
    settings = RuntimeSettings(
        allow=NetPolicy.parse("127.0.0.1/32"),
        limits=HttpLimits(timeout=5, max_response_bytes=64 * 1024),
    )
    rt = ConnectorRuntime(Registry([http_app]), settings)
    yield rt
    await rt.aclose()


async def call(
    rt: ConnectorRuntime, connection: Mapping[str, Any] | None = None, **inputs: Any
) -> list[dict[str, Any]]:
    return await rt.execute(
        "http:MakeRequest", inputs, connection, {"run_id": "r1", "module_id": 2}
    )


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
async def test_methods(runtime: ConnectorRuntime, server: FakeHttpServer, method: str) -> None:
    [out] = await call(
        runtime, url=f"{server.url}/echo", method=method, qs=[{"name": "a", "value": 1}]
    )
    assert out["statusCode"] == 200
    assert out["data"]["method"] == method.upper()
    assert out["data"]["query"] == {"a": ["1"]}


async def test_head_has_no_body(runtime: ConnectorRuntime, server: FakeHttpServer) -> None:
    [out] = await call(runtime, url=f"{server.url}/echo", method="head")
    assert out["statusCode"] == 200 and out["data"] == ""


async def test_json_form_raw_and_multipart_bodies(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    url = f"{server.url}/echo"
    [out] = await call(runtime, url=url, method="post", bodyType="json", data={"x": [1, 2]})
    assert out["data"]["body"] == '{"x":[1,2]}' or out["data"]["body"] == '{"x": [1, 2]}'
    assert out["data"]["headers"]["content-type"] == "application/json"
    [out] = await call(runtime, url=url, method="post", bodyType="json", data='{"typed": true}')
    assert out["data"]["body"] == '{"typed": true}'
    [out] = await call(
        runtime,
        url=url,
        method="post",
        bodyType="x_www_form_urlencoded",
        formFields=[{"name": "a", "value": "1 2"}, {"name": "b", "value": "&"}],
    )
    assert out["data"]["body"] == "a=1+2&b=%26"
    [out] = await call(
        runtime, url=url, method="put", bodyType="raw", contentType="text/csv", data="a,b\n1,2"
    )
    assert out["data"]["body"] == "a,b\n1,2"
    assert out["data"]["headers"]["content-type"] == "text/csv"
    file = {
        "name": "upload",
        "fileName": "hi.txt",
        "data": base64.b64encode(b"hello").decode(),
        "mimeType": "text/plain",
    }
    [out] = await call(
        runtime,
        url=url,
        method="post",
        bodyType="multipart_form_data",
        formFields=[{"name": "note", "value": "n"}],
        files=[file],
    )
    body = out["data"]["body"]
    assert 'name="upload"; filename="hi.txt"' in body and "hello" in body and 'name="note"' in body


@pytest.mark.parametrize(
    ("connection", "where", "expected"),
    [
        (
            {"type": "api_key", "secrets": {"api_key": SECRET}, "parameters": {"name": "X-Key"}},
            "header",
            ("x-key", SECRET),
        ),
        (
            {
                "type": "api_key",
                "secrets": {"api_key": SECRET},
                "parameters": {"placement": "query", "name": "key"},
            },
            "query",
            ("key", [SECRET]),
        ),
        (
            {"type": "basic", "parameters": {"username": "ann"}, "secrets": {"password": SECRET}},
            "header",
            ("authorization", "Basic " + base64.b64encode(f"ann:{SECRET}".encode()).decode()),
        ),
        (
            {"type": "bearer", "secrets": {"token": SECRET}},
            "header",
            ("authorization", f"Bearer {SECRET}"),
        ),
    ],
)
async def test_static_auth_kinds(
    runtime: ConnectorRuntime,
    server: FakeHttpServer,
    connection: dict[str, Any],
    where: str,
    expected: tuple[str, object],
) -> None:
    [out] = await call(runtime, connection, url=f"{server.url}/echo")
    seen = out["data"]["headers" if where == "header" else "query"]
    assert seen[expected[0]] == expected[1]


def oauth_server(server: FakeHttpServer, tokens: list[str]) -> list[FakeRequest]:
    fetches: list[FakeRequest] = []

    def token(request: FakeRequest) -> FakeResponse:
        fetches.append(request)
        return FakeResponse.of_json({"access_token": tokens[len(fetches) - 1], "expires_in": 3600})

    def api(request: FakeRequest) -> FakeResponse:
        if request.headers.get("authorization") != f"Bearer {tokens[-1]}":
            return FakeResponse(401)
        return FakeResponse.of_json({"ok": True})

    server.route("POST", "/token", token)
    server.route("GET", "/api", api)
    return fetches


async def test_oauth2_client_credentials_fetches_caches_and_refreshes(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    fetches = oauth_server(server, ["tok-1"])
    conn = {
        "type": "oauth2",
        "parameters": {"token_url": f"{server.url}/token", "client_id": "cid", "scope": "read"},
        "secrets": {"client_secret": SECRET},
    }
    for _ in range(3):
        [out] = await call(runtime, conn, url=f"{server.url}/api", handleErrors=True)
        assert out["data"] == {"ok": True}
    assert len(fetches) == 1
    assert fetches[0].form() == {"grant_type": ["client_credentials"], "scope": ["read"]}
    assert (
        fetches[0].headers["authorization"]
        == "Basic " + base64.b64encode(f"cid:{SECRET}".encode()).decode()
    )


async def test_oauth2_refetches_after_a_401(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    fetches = oauth_server(server, ["stale", "fresh"])
    conn = {
        "type": "oauth2",
        "parameters": {
            "token_url": f"{server.url}/token",
            "client_id": "cid",
            "client_authentication": "body",
        },
        "secrets": {"client_secret": SECRET},
    }
    [out] = await call(runtime, conn, url=f"{server.url}/api", handleErrors=True)
    assert out["data"] == {"ok": True} and len(fetches) == 2
    assert fetches[0].form()["client_secret"] == [SECRET]


async def test_oauth2_refused_client_is_an_auth_error(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    server.route("POST", "/token", lambda r: FakeResponse.of_json({"error": "invalid_client"}, 401))
    conn = {
        "type": "oauth2",
        "parameters": {"token_url": f"{server.url}/token", "client_id": "c"},
        "secrets": {"client_secret": SECRET},
    }
    with pytest.raises(errors.AuthError):
        await call(runtime, conn, url=f"{server.url}/echo")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, errors.ConnectionError),
        (502, errors.ConnectionError),
        (404, errors.NotFoundError),
        (401, errors.AuthError),
        (403, errors.AuthError),
        (400, errors.InvalidInputError),
    ],
)
async def test_non_2xx_switch(
    runtime: ConnectorRuntime, server: FakeHttpServer, status: int, kind: type[Exception]
) -> None:
    server.route("GET", "/fail", lambda r: FakeResponse.of_json({"error": "x"}, status))
    [out] = await call(runtime, url=f"{server.url}/fail")
    assert out["statusCode"] == status and out["data"] == {"error": "x"}
    with pytest.raises(kind):
        await call(runtime, url=f"{server.url}/fail", handleErrors=True)


async def test_429_is_a_rate_limit_with_retry_after(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    server.route("GET", "/slow", lambda r: FakeResponse(429, {"Retry-After": "3"}))
    with pytest.raises(errors.RateLimitError) as limited:
        await call(runtime, url=f"{server.url}/slow", handleErrors=True)
    assert limited.value.retry_after == 3
    assert limited.value.to_module_error().error_type.value == "RateLimitError"


async def test_redirects_are_followed_and_rechecked(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    server.route("*", "/moved", lambda r: FakeResponse(302, {"Location": "/echo?from=moved"}))
    server.route("POST", "/see-other", lambda r: FakeResponse(303, {"Location": "/echo"}))
    server.route(
        "GET",
        "/to-metadata",
        lambda r: FakeResponse(301, {"Location": "http://169.254.169.254/latest/"}),
    )
    server.route(
        "GET", "/to-mapped", lambda r: FakeResponse(307, {"Location": "http://[::ffff:127.0.0.2]/"})
    )
    server.route(
        "GET", "/to-loopback2", lambda r: FakeResponse(302, {"Location": "http://127.0.0.2:1/"})
    )
    server.route("GET", "/loop", lambda r: FakeResponse(302, {"Location": "/loop"}))
    [out] = await call(runtime, url=f"{server.url}/moved")
    assert out["data"]["query"] == {"from": ["moved"]}
    [out] = await call(
        runtime, url=f"{server.url}/see-other", method="post", bodyType="json", data={"a": 1}
    )
    assert out["data"]["method"] == "GET" and out["data"]["body"] == ""
    [out] = await call(runtime, url=f"{server.url}/moved", followRedirect=False)
    assert out["statusCode"] == 302
    for path in ("/to-metadata", "/to-mapped", "/to-loopback2"):
        with pytest.raises(BlockedTargetError):
            await call(runtime, url=f"{server.url}{path}")
    with pytest.raises(errors.InvalidInputError, match="more than 10 redirects"):
        await call(runtime, url=f"{server.url}/loop")


async def test_credentials_are_not_forwarded_to_another_origin(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    with FakeHttpServer() as other:
        other.route("*", "/echo", echo)
        server.route("GET", "/away", lambda r: FakeResponse(302, {"Location": f"{other.url}/echo"}))
        conn = {"type": "bearer", "secrets": {"token": SECRET}}
        [out] = await call(
            runtime, conn, url=f"{server.url}/away", headers=[{"name": "Cookie", "value": "c=1"}]
        )
    assert "authorization" not in out["data"]["headers"]
    assert "cookie" not in out["data"]["headers"]
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_native_pagination(runtime: ConnectorRuntime, server: FakeHttpServer) -> None:
    items = list(range(7))

    def by_page(r: FakeRequest) -> FakeResponse:
        n = int(r.query["page"][0])
        return FakeResponse.of_json({"items": items[(n - 1) * 3 : n * 3]})

    def by_offset(r: FakeRequest) -> FakeResponse:
        start, size = int(r.query["offset"][0]), int(r.query["limit"][0])
        return FakeResponse.of_json(items[start : start + size])

    def by_cursor(r: FakeRequest) -> FakeResponse:
        start = int(r.query.get("after", ["0"])[0])
        nxt = start + 3 if start + 3 < len(items) else None
        return FakeResponse.of_json({"data": items[start : start + 3], "meta": {"next": nxt}})

    def by_link(r: FakeRequest) -> FakeResponse:
        n = int(r.query.get("p", ["1"])[0])
        link = {"Link": f'</link?p={n + 1}>; rel="next"'} if n < 3 else {}
        return FakeResponse.of_json([n], headers=link)

    for path, route in (
        ("/page", by_page),
        ("/offset", by_offset),
        ("/cursor", by_cursor),
        ("/link", by_link),
    ):
        server.route("GET", path, route)
    pages = await call(
        runtime, url=f"{server.url}/page", pagination={"type": "page", "itemsPath": "items"}
    )
    assert [p["data"]["items"] for p in pages] == [[0, 1, 2], [3, 4, 5], [6], []]
    pages = await call(
        runtime, url=f"{server.url}/offset", pagination={"type": "offset", "limit": 3}
    )
    assert [p["data"] for p in pages] == [[0, 1, 2], [3, 4, 5], [6]]
    pages = await call(
        runtime,
        url=f"{server.url}/cursor",
        pagination={"type": "cursor", "cursorParam": "after", "cursorPath": "meta.next"},
    )
    assert [p["data"]["data"] for p in pages] == [[0, 1, 2], [3, 4, 5], [6]]
    pages = await call(runtime, url=f"{server.url}/link", pagination={"type": "link"})
    assert [p["data"] for p in pages] == [[1], [2], [3]]
    pages = await call(
        runtime, url=f"{server.url}/link", pagination={"type": "link", "maxPages": 2}
    )
    assert len(pages) == 2


async def test_timeouts_are_typed(runtime: ConnectorRuntime, server: FakeHttpServer) -> None:
    release = threading.Event()

    def stall(r: FakeRequest) -> FakeResponse:
        release.wait(10)
        return FakeResponse.of_json({})

    server.route("GET", "/stall", stall)
    try:
        with pytest.raises(errors.TimeoutError) as timed_out:
            await call(runtime, url=f"{server.url}/stall", timeout=0.2)
        assert timed_out.value.retryable
    finally:
        release.set()


async def test_response_size_is_bounded(runtime: ConnectorRuntime, server: FakeHttpServer) -> None:
    server.route(
        "GET", "/big", lambda r: FakeResponse(200, {"Content-Type": "text/plain"}, b"x" * 70_000)
    )
    server.route(
        "GET",
        "/big-chunked",
        lambda r: FakeResponse(
            200,
            {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
            b"10000\r\n" + b"y" * 65536 + b"\r\n10000\r\n" + b"y" * 65536 + b"\r\n0\r\n\r\n",
        ),
    )
    for path in ("/big", "/big-chunked"):
        with pytest.raises(ResponseTooLargeError):
            await call(runtime, url=f"{server.url}{path}")


async def test_binary_responses_are_base64_with_size(
    runtime: ConnectorRuntime, server: FakeHttpServer
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    server.route(
        "GET",
        "/img",
        lambda r: FakeResponse(
            200,
            {"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="logo.png"'},
            png,
        ),
    )
    [out] = await call(runtime, url=f"{server.url}/img")
    assert base64.b64decode(out["data"]) == png
    assert out["fileSize"] == len(png) and out["fileName"] == "logo.png"
    assert out["contentType"] == "image/png"


async def test_loopback_is_refused_without_the_allow_list(server: FakeHttpServer) -> None:
    rt = ConnectorRuntime(Registry([http_app]))
    try:
        with pytest.raises(BlockedTargetError, match="loopback"):
            await call(rt, url=f"{server.url}/echo")
        assert server.requests == []
    finally:
        await rt.aclose()


async def test_secrets_never_appear_in_logs(
    runtime: ConnectorRuntime, server: FakeHttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("GET", "/fail", lambda r: FakeResponse(500))
    conn = {
        "type": "api_key",
        "secrets": {"api_key": SECRET},
        "parameters": {"placement": "query", "name": "key"},
    }
    with caplog.at_level(logging.DEBUG):
        await call(
            runtime,
            conn,
            url=f"{server.url}/echo?also={SECRET}",
            qs=[{"name": "k2", "value": SECRET}],
        )
        with pytest.raises(errors.ConnectionError) as failed:
            await call(runtime, conn, url=f"{server.url}/fail?token={SECRET}", handleErrors=True)
    assert SECRET not in str(failed.value)
    assert any("/echo" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.__dict__)
