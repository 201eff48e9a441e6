"""What the gateway tests get from the fixtures (a plain module with a unique name, so test
modules of several directories can import it in one session)."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from scenarist_runtime.host import Hosted
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_storage.memory import MemoryIdentityStore
from scenarist_storage.models import Role


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Gateway:
    hosted: Hosted
    channel: grpc.aio.Channel
    identity: MemoryIdentityStore
    lifecycle: Lifecycle

    async def token(self, org: uuid.UUID, role: Role) -> tuple[tuple[str, str], ...]:
        _, secret = await self.identity.create_token(org, role, role.value)
        return (("authorization", f"Bearer {secret}"),)

    async def org(self, name: str = "Acme") -> uuid.UUID:
        return (await self.identity.create_organization(name)).id


StartGateway = Callable[..., Awaitable[Gateway]]
