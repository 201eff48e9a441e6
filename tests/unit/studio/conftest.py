"""A studio REST app over the in-memory user store, with cheap password hashing.

Nothing here reaches a gRPC service: the endpoints exercised are answered by the studio itself
(sign-in, tokens, users list, IML, operators) or refused before any gRPC call (roles, CSRF)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from scenarist_storage.models import Role
from scenarist_studio.accounts import Accounts
from scenarist_studio.clients import Clients, Targets
from scenarist_studio.context import Studio
from scenarist_studio.passwords import Passwords
from scenarist_studio.sealing import Sealer
from scenarist_studio.service import api_app
from scenarist_studio.settings import StudioOptions
from scenarist_studio.users import MemoryUserStore
from starlette.applications import Starlette
from starlette.routing import Mount

PASSWORD = "correct horse battery"
ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class World:
    client: httpx.AsyncClient
    accounts: Accounts
    studio: Studio

    async def add_user(self, email: str, role: Role) -> None:
        await self.accounts.create_user(email, PASSWORD, role, ORG, f"svc-{email}")

    async def sign_in(self, email: str) -> str:
        answer = await self.client.post("/api/session", json={"email": email, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        csrf: str = answer.json()["csrf"]
        return csrf


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(
        MemoryUserStore(),
        Passwords(CHEAP),
        Sealer(b"k" * 32),
        None,
        timedelta(hours=1),
    )


@pytest.fixture
async def world(accounts: Accounts) -> AsyncIterator[World]:
    options = StudioOptions(cookie_secure=False)
    unreachable = Targets("127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:9")
    studio = Studio(accounts, Clients(unreachable, 0.5), options)
    app = Starlette(routes=[Mount("/api", app=api_app(studio, "test"))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield World(client, accounts, studio)
    await studio.clients.close()
