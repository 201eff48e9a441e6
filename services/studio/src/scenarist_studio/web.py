"""Serving the built web app, and the security headers on everything the studio answers.

The app is index.html plus hashed files under /assets (Vite's output in ./static). Only those
paths are routed, never a catch-all, so the studio can share an HTTP server with the trigger's
/hooks/* and the health routes whatever order the services were started in.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "STATIC_DIR", "SecurityHeaders", "web_routes"]

STATIC_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Scenarist studio</title></head><body><h1>The studio web app is not built</h1>
<p>Run <code>services/studio/web/build.sh</code> (part of <code>make install</code>).</p>
</body></html>"""


class SecurityHeaders:
    """Adds the CSP and friends to every response; API responses are also never cached."""

    def __init__(self, app: ASGIApp, *, no_store: bool = False) -> None:
        self._app = app
        self._no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += _HEADERS
                if self._no_store:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, with_headers)


async def _index(request: Request) -> Response:
    index = STATIC_DIR / "index.html"
    if not index.exists():
        return HTMLResponse(_NOT_BUILT, status_code=503)
    # The page itself is tiny and names hashed assets: always revalidate it.
    return FileResponse(index, headers={"cache-control": "no-cache"})


def web_routes() -> list[BaseRoute]:
    assets = StaticFiles(directory=STATIC_DIR / "assets", check_dir=False)
    return [
        Route("/", SecurityHeaders(request_response(_index)), methods=["GET", "HEAD"]),
        Mount("/assets", app=SecurityHeaders(assets)),
    ]
