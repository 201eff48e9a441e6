"""DirectRoute: webhooks answered ahead of Starlette's router, as the router would have."""

from __future__ import annotations

import httpx
import pytest
from scenarist_runtime.health import HealthChecks
from scenarist_runtime.http import DirectRoute, build_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

METHODS = ["GET", "POST"]


async def echo(request: Request) -> Response:
    if request.path_params["token"] == "boom":
        raise RuntimeError("the endpoint failed")
    return JSONResponse(
        {"token": request.path_params["token"], "via_router": "router" in request.scope}
    )


def client(app: ASGIApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_a_matching_request_skips_the_router() -> None:
    route = DirectRoute("/hooks/", "token", echo, methods=METHODS)
    async with client(build_app(HealthChecks(), [route])) as http:
        response = await http.post("/hooks/abc%20d")
        assert response.json() == {"token": "abc d", "via_router": False}
        assert (await http.get("/livez")).json() == {"status": "ok"}  # the rest: Starlette


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/hooks/abc"),
        ("HEAD", "/hooks/abc"),  # GET's HEAD, as Starlette adds it
        ("PUT", "/hooks/abc"),  # not one of its methods: 405
        ("POST", "/hooks/"),  # no token: 404
        ("POST", "/hooks/a/b"),  # two segments: 404
        ("POST", "/hooks/abc/"),  # Starlette's trailing-slash redirect
        ("GET", "/hooks/boom"),  # the endpoint raised: 500
    ],
)
async def test_answers_as_the_same_route_in_starlette_would(method: str, path: str) -> None:
    route = DirectRoute("/hooks/", "token", echo, methods=METHODS)
    async with client(build_app(HealthChecks(), [route])) as direct:
        ours = await direct.request(method, path, follow_redirects=False)
    async with client(Starlette(routes=[route])) as plain:
        theirs = await plain.request(method, path, follow_redirects=False)
    assert ours.status_code == theirs.status_code
    if ours.status_code == 200 and method != "HEAD":
        assert ours.json()["token"] == theirs.json()["token"]
