"""What every REST handler gets: the request, the caller, the parsed body and the studio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from scenarist_studio.accounts import Accounts, Caller
from scenarist_studio.clients import Clients
from scenarist_studio.settings import StudioOptions

__all__ = ["Ctx", "Studio"]

Model = TypeVar("Model", bound=BaseModel)


@dataclass
class Studio:
    accounts: Accounts
    clients: Clients
    options: StudioOptions


@dataclass
class Ctx:
    request: Request
    studio: Studio
    caller: Caller | None
    body: BaseModel | None

    @property
    def user(self) -> Caller:
        assert self.caller is not None, "handler of a public endpoint asked for the caller"
        return self.caller

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    async def call(self, method: Any, request: Any) -> Any:
        """A gRPC call with the caller's service token."""
        return await self.studio.clients.call(method, request, self.user.grpc_token)

    def payload(self, kind: type[Model]) -> Model:
        assert isinstance(self.body, kind)
        return self.body
