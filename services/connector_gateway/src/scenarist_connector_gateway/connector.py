"""ConnectorService on the public port: the catalogue (ExecuteModule lives on the internal
port, see internal.py)."""

# ruff: noqa: N802 - RPC method names are fixed by the generated servicer base class

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import grpc
from scenarist.connector.v1 import connector_service_pb2 as pb
from scenarist.connector.v1 import connector_service_pb2_grpc as pb_grpc
from scenarist_runtime.rpc import Context, abort, abort_invalid, not_found, page_size
from scenarist_storage.errors import InvalidPageTokenError
from scenarist_storage.paging import decode_token, encode_token, token_int

from scenarist_connector_gateway.catalogue import Catalogue

T = TypeVar("T")
PAGE = (100, 500)


async def _page(
    context: Context, items: Sequence[T], kind: str, size: int, token: str
) -> tuple[list[T], str]:
    start = 0
    if token:
        try:
            start = token_int(decode_token(kind, token, 1)[0])
        except InvalidPageTokenError as exc:
            await abort_invalid(context, "invalid page_token", [("page_token", str(exc))])
    end = start + size
    return list(items[start:end]), encode_token(kind, [end]) if len(items) > end else ""


class ConnectorServicer(pb_grpc.ConnectorServiceServicer):
    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    async def ListApps(self, request: pb.ListAppsRequest, context: Context) -> pb.ListAppsResponse:
        size = await page_size(context, request.page_size, *PAGE)
        apps, token = await _page(context, self._catalogue.apps, "apps", size, request.page_token)
        return pb.ListAppsResponse(apps=apps, next_page_token=token)

    async def ListModules(
        self, request: pb.ListModulesRequest, context: Context
    ) -> pb.ListModulesResponse:
        modules = self._catalogue.modules.get(request.app)
        if modules is None:
            await not_found(context, f"app {request.app!r}")
        size = await page_size(context, request.page_size, *PAGE)
        kind = f"modules:{request.app}"
        items, token = await _page(context, modules, kind, size, request.page_token)
        return pb.ListModulesResponse(modules=items, next_page_token=token)

    async def ExecuteModule(
        self, request: pb.ExecuteModuleRequest, context: Context
    ) -> pb.ExecuteModuleResponse:
        # It acts with the stored credentials of the organization the request names, so no API
        # token may call it, whatever its role: executors use the internal port (internal.py).
        await abort(
            context,
            grpc.StatusCode.PERMISSION_DENIED,
            "ExecuteModule is for executors only, on the gateway's internal port",
        )
