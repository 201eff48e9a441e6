"""What the log service tests get from the `stack` fixture (a plain module with a unique name,
so test modules of several directories can import it in one session)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
from scenarist_bus.local import LocalBus
from scenarist_runtime.host import Hosted
from scenarist_storage.memory import MemoryIdentityStore
from scenarist_storage.models import Role


@dataclass
class LogStack:
    hosted: Hosted
    bus: LocalBus
    identity: MemoryIdentityStore
    channel: grpc.aio.Channel

    async def token(self, org: uuid.UUID, role: Role) -> tuple[tuple[str, str], ...]:
        _, secret = await self.identity.create_token(org, role, role.value)
        return (("authorization", f"Bearer {secret}"),)
