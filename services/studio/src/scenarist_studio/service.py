"""The studio service: the builder's web app under / and its REST API under /api.

It owns the `studio` schema (users, sessions, script tokens) and reaches everything else only
through the public gRPC APIs, with each user's own service token. Settings come from
`SCENARIST_STUDIO__*` (see settings.py) unless the launcher puts `StudioOptions` into
`host.shared["studio_options"]`. After start, `host.shared["studio"]` is the running `Studio`
(the standalone launcher passes the host to `bootstrap.ensure_first_user`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

from scenarist_runtime.host import ServiceHost
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from scenarist_studio.accounts import Accounts
from scenarist_studio.api import ENDPOINTS
from scenarist_studio.bootstrap import ensure_first_user
from scenarist_studio.clients import Clients, Targets
from scenarist_studio.context import Studio
from scenarist_studio.openapi import API_PREFIX, openapi_document
from scenarist_studio.passwords import Passwords
from scenarist_studio.pg_users import PgUserStore
from scenarist_studio.routing import json_response, routes_for
from scenarist_studio.sealing import Sealer, decode_key, load_or_create_key
from scenarist_studio.settings import StudioOptions, load_studio_settings
from scenarist_studio.web import SecurityHeaders, web_routes

__all__ = ["StudioService", "api_app", "build"]

log = logging.getLogger(__name__)


def _options(host: ServiceHost) -> StudioOptions:
    given = host.shared.get("studio_options")
    if isinstance(given, StudioOptions):
        return given
    return load_studio_settings().studio


def _targets(host: ServiceHost, options: StudioOptions) -> Targets:
    """Configured addresses; the unset ones are this process's own gRPC server, reached over
    an extra loopback port bound now (before the host starts serving)."""
    wanted = options.targets
    own: str | None = None
    if None in (wanted.orchestrator, wanted.log, wanted.trigger, wanted.connector_gateway):
        own = f"127.0.0.1:{host.grpc_server.add_insecure_port('127.0.0.1:0')}"

    def pick(target: str | None) -> str:
        found = target or own
        assert found is not None
        return found

    return Targets(
        orchestrator=pick(wanted.orchestrator),
        log=pick(wanted.log),
        trigger=pick(wanted.trigger),
        connector_gateway=pick(wanted.connector_gateway),
    )


def api_app(studio: Studio, version: str) -> SecurityHeaders:
    """The /api application (also what the unit tests drive)."""
    document = openapi_document(ENDPOINTS, version)

    async def openapi(request: Request) -> Response:
        return json_response(document)

    routes = [Route("/openapi.json", openapi, methods=["GET"]), *routes_for(ENDPOINTS, studio)]
    return SecurityHeaders(Starlette(routes=routes), no_store=True)


@dataclass
class StudioService:
    name: str = "studio"

    async def start(self, host: ServiceHost) -> None:
        options = _options(host)
        key = (
            decode_key(options.secret_key.get_secret_value())
            if options.secret_key is not None
            else load_or_create_key(options.key_dir)
        )
        clients = Clients(_targets(host, options), options.grpc_timeout_seconds)
        host.lifecycle.add_shutdown_hook(clients.close, name="studio grpc channels")
        accounts = Accounts(
            PgUserStore(host.pool),
            Passwords(),
            Sealer(key),
            clients,
            timedelta(hours=options.session_hours),
        )
        studio = Studio(accounts, clients, options)
        host.shared["studio"] = studio
        # The standalone launcher cannot import this service; it calls this to make a first user.
        host.shared["ensure_first_user"] = functools.partial(ensure_first_user, host)
        host.routes.append(Mount(API_PREFIX, app=api_app(studio, host.settings.version)))
        host.routes.extend(web_routes())


def build() -> StudioService:
    return StudioService()
