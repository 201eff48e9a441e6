"""OAuth2 authorization-code flows on the memory stores: PKCE, state handling, refresh locking.

The token endpoint is an httpx MockTransport behind the SDK client, so nothing opens a socket.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from scenarist_connector_gateway.oauth import FlowRefusedError, OAuthFlows, state_hash
from scenarist_connector_gateway.oauth_store import MemoryOAuthStore
from scenarist_connector_gateway.secrets import Keyring, connection_aad
from scenarist_connector_sdk import AddressGuard, NetPolicy, Registry, SafeHttpClient
from scenarist_connector_sdk.oauth import (
    authorization_url,
    code_challenge,
    new_code_verifier,
    new_state,
)
from scenarist_storage.gateway_models import NewConnection
from scenarist_storage.memory.gateway import MemoryConnectionStore

ORG, OTHER = uuid.uuid4(), uuid.uuid4()
REDIRECT = "https://studio.example/callback"


def test_verifiers_and_states_are_long_random_and_url_safe() -> None:
    alphabet = set(string.ascii_letters + string.digits + "-_")
    verifiers = {new_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50 and len({new_state() for _ in range(50)}) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128 and set(verifier) <= alphabet


def test_the_challenge_is_unpadded_base64url_sha256() -> None:
    verifier = new_code_verifier()
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = code_challenge(verifier)
    assert "=" not in challenge and len(challenge) == 43
    assert base64.urlsafe_b64decode(challenge + "=") == digest


def test_authorization_url_keeps_the_apps_own_query() -> None:
    url = authorization_url(
        "https://auth.example/authorize?audience=api",
        client_id="c",
        redirect_uri=REDIRECT,
        state="s",
        challenge="x",
        scope="read write",
    )
    query = parse_qs(urlsplit(url).query)
    assert query["audience"] == ["api"] and query["scope"] == ["read write"]
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [REDIRECT]


class TokenEndpoint:
    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.challenge = ""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        refused = code_challenge(form.get("code_verifier", "")) != self.challenge
        if form["grant_type"] == "authorization_code" and refused:
            return httpx.Response(400, json={"error": "invalid_grant"})
        body = {"access_token": f"at-{len(self.forms)}", "expires_in": 3600}
        return httpx.Response(200, json={**body, "refresh_token": f"rt-{len(self.forms)}"})


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _setup(
    endpoint: Callable[[httpx.Request], httpx.Response], clock: Clock
) -> tuple[OAuthFlows, MemoryConnectionStore, Keyring, uuid.UUID]:
    keyring, connections = Keyring.generate(), MemoryConnectionStore()
    cid = uuid.uuid4()
    secrets = {"client_id": "c", "client_secret": "s"}
    await connections.create_connection(
        NewConnection(
            org_id=ORG,
            id=cid,
            app="anything",
            type="oauth2",
            name="n",
            parameters={
                "grant_type": "authorization_code",
                "authorize_url": "https://auth.example/authorize",
                "token_url": "https://auth.example/token",
            },
            secret_fields=tuple(secrets),
            sealed=keyring.seal(orjson.dumps(secrets), connection_aad(ORG, cid)),
        )
    )
    http = SafeHttpClient(AddressGuard(NetPolicy()), transport=httpx.MockTransport(endpoint))
    store = MemoryOAuthStore(connections)
    flows = OAuthFlows(store, connections, keyring, http, Registry(), clock=clock)
    return flows, connections, keyring, cid


async def test_a_state_works_once_for_its_org_until_it_expires() -> None:
    endpoint, clock = TokenEndpoint(), Clock()
    flows, _, keyring, cid = await _setup(endpoint, clock)
    started = await flows.start(ORG, cid, REDIRECT)
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.url).query).items()}
    endpoint.challenge = query["code_challenge"]
    with pytest.raises(FlowRefusedError):  # another org neither uses nor burns it
        await flows.complete(OTHER, started.state, "code")
    record = await flows.complete(ORG, started.state, "code")
    assert endpoint.forms[-1]["redirect_uri"] == REDIRECT
    assert record.expires_at == clock.now + timedelta(hours=1)
    stored = orjson.loads(keyring.open(record.sealed, connection_aad(ORG, cid)))
    assert stored["access_token"] == "at-1" and stored["refresh_token"] == "rt-1"
    with pytest.raises(FlowRefusedError):
        await flows.complete(ORG, started.state, "code")

    late = await flows.start(ORG, cid, REDIRECT)
    clock.now += timedelta(minutes=11)
    with pytest.raises(FlowRefusedError):
        await flows.complete(ORG, late.state, "code")


async def test_only_the_state_hash_and_a_sealed_verifier_are_kept() -> None:
    flows, _, _, cid = await _setup(TokenEndpoint(), Clock())
    store = flows._store
    started = await flows.start(ORG, cid, REDIRECT)
    assert isinstance(store, MemoryOAuthStore)
    pending = store._states[state_hash(started.state)]
    assert started.state.encode() not in pending.sealed_verifier.ciphertext


async def test_concurrent_refreshes_of_an_expiring_token_refresh_once() -> None:
    endpoint, clock = TokenEndpoint(), Clock()
    flows, connections, _, cid = await _setup(endpoint, clock)
    started = await flows.start(ORG, cid, REDIRECT)
    endpoint.challenge = parse_qs(urlsplit(started.url).query)["code_challenge"][0]
    record = await flows.complete(ORG, started.state, "code")
    clock.now += timedelta(minutes=59, seconds=30)  # inside the refresh margin
    used = {"access_token": "at-1", "refresh_token": "rt-1"}
    results = await asyncio.gather(*(flows.fresh(ORG, cid, used) for _ in range(3)))
    assert [f["grant_type"] for f in endpoint.forms] == ["authorization_code", "refresh_token"]
    assert {r["access_token"] for r in results} == {"at-2"}
    after = await connections.get_connection(ORG, cid)
    assert after is not None and after.expires_at != record.expires_at
