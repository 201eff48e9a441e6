"""OAuth2 authorization-code connections end to end: a real gateway on a real Postgres, a fake
authorization server on loopback (allowed by SCENARIST_CONNECTOR_ALLOW), and the test playing
the user's browser."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg  # type: ignore[import-untyped]
import grpc
import pytest
from fakes import github, slack
from fakes.oauth import CLIENT_ID, CLIENT_SECRET, OAuthServer
from gateway_stack import Gateway, StartGateway, new_key
from scenarist.connector.v1 import connection_service_pb2 as pb
from scenarist.connector.v1 import connection_service_pb2_grpc as pb_grpc
from scenarist.connector.v1 import connector_service_pb2 as cpb
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]
REDIRECT = "https://studio.example/oauth/callback"


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    fake = OAuthServer()
    with fake.http:
        yield fake


@pytest.fixture
async def gw(
    start_gateway: StartGateway, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Gateway]:
    monkeypatch.setenv("SCENARIST_CONNECTOR_ALLOW", "127.0.0.1/32")
    yield await start_gateway(new_key())


async def _code(call: Any) -> grpc.StatusCode:  # grpc-stubs type aio calls loosely
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


async def _oauth_connection(gw: Gateway, md: Metadata, fake: OAuthServer) -> str:
    created = await pb_grpc.ConnectionServiceStub(gw.channel).CreateConnection(
        pb.CreateConnectionRequest(
            app="http",
            type=ConnectionType.CONNECTION_TYPE_OAUTH2,
            name="Fake account",
            secrets={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            parameters={
                "grant_type": "authorization_code",
                "authorize_url": f"{fake.url}/authorize",
                "token_url": f"{fake.url}/token",
                "scope": "read",
            },
        ),
        metadata=md,
    )
    return created.connection.id


def _consent(fake: OAuthServer, started: pb.StartOAuthAuthorizationResponse) -> str:
    """The browser's part: check what the URL asks for and come back with a code."""
    url = urlsplit(started.authorization_url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/authorize"
    assert query["state"] == started.state and len(started.state) >= 43
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == REDIRECT and query["scope"] == "read"
    return fake.grant(query["code_challenge"], query["redirect_uri"])


async def _authorize(gw: Gateway, md: Metadata, fake: OAuthServer, cid: str) -> str:
    stub = pb_grpc.ConnectionServiceStub(gw.channel)
    started = await stub.StartOAuthAuthorization(
        pb.StartOAuthAuthorizationRequest(connection_id=cid, redirect_uri=REDIRECT), metadata=md
    )
    code = _consent(fake, started)
    await stub.CompleteOAuthAuthorization(
        pb.CompleteOAuthAuthorizationRequest(state=started.state, code=code), metadata=md
    )
    return started.state


async def _call_api(gw: Gateway, org: uuid.UUID, cid: str, fake: OAuthServer) -> Any:
    execute = gw.hosted.host.shared["connector_execute"]
    response = await execute(
        cpb.ExecuteModuleRequest(
            app="http",
            module="MakeRequest",
            connection_id=cid,
            inputs=json.dumps({"url": f"{fake.url}/api/me", "handleErrors": True}),
            run=cpb.RunInfo(organization_id=str(org), run_id="r1"),
        )
    )
    assert not response.HasField("error"), response.error
    return json.loads(response.bundles)[0]["data"]


async def test_authorization_stores_tokens_encrypted(
    gw: Gateway, oauth_server: OAuthServer, raw_db: asyncpg.Connection
) -> None:
    org = await gw.org()
    md = await gw.token(org, Role.EDITOR)
    cid = await _oauth_connection(gw, md, oauth_server)
    await _authorize(gw, md, oauth_server, cid)
    got = await pb_grpc.ConnectionServiceStub(gw.channel).GetConnection(
        pb.GetConnectionRequest(connection_id=cid), metadata=md
    )
    assert {"access_token", "refresh_token"} <= set(got.connection.secret_fields)
    assert got.connection.HasField("expires_at")
    row = await raw_db.fetchval(
        "SELECT row_to_json(c)::text FROM gateway.connections c WHERE id = $1", uuid.UUID(cid)
    )
    for token in (*oauth_server.access, *oauth_server.refresh, CLIENT_SECRET):
        assert token not in row and token.encode().hex() not in row
    assert await raw_db.fetchval("SELECT count(*) FROM gateway.oauth_states") == 0


async def test_replayed_expired_and_foreign_states_are_refused(
    gw: Gateway, oauth_server: OAuthServer, raw_db: asyncpg.Connection
) -> None:
    org, other = await gw.org(), await gw.org("Globex")
    md, other_md = await gw.token(org, Role.EDITOR), await gw.token(other, Role.OWNER)
    stub = pb_grpc.ConnectionServiceStub(gw.channel)
    cid = await _oauth_connection(gw, md, oauth_server)
    state = await _authorize(gw, md, oauth_server, cid)
    replay = pb.CompleteOAuthAuthorizationRequest(state=state, code="anything")
    assert await _code(stub.CompleteOAuthAuthorization(replay, metadata=md)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )

    start = pb.StartOAuthAuthorizationRequest(connection_id=cid, redirect_uri=REDIRECT)
    assert await _code(stub.StartOAuthAuthorization(start, metadata=other_md)) == (
        grpc.StatusCode.NOT_FOUND
    )
    started = await stub.StartOAuthAuthorization(start, metadata=md)
    code = _consent(oauth_server, started)
    complete = pb.CompleteOAuthAuthorizationRequest(state=started.state, code=code)
    # Another org cannot use (nor burn) the state.
    assert await _code(stub.CompleteOAuthAuthorization(complete, metadata=other_md)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    await raw_db.execute("UPDATE gateway.oauth_states SET expires_at = now() - interval '1 s'")
    assert await _code(stub.CompleteOAuthAuthorization(complete, metadata=md)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    bad_redirect = pb.StartOAuthAuthorizationRequest(connection_id=cid, redirect_uri="ftp://x")
    assert await _code(stub.StartOAuthAuthorization(bad_redirect, metadata=md)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_tokens_refresh_on_expiry_once_under_concurrency_and_on_401(
    gw: Gateway, oauth_server: OAuthServer, raw_db: asyncpg.Connection
) -> None:
    org = await gw.org()
    md = await gw.token(org, Role.EDITOR)
    cid = await _oauth_connection(gw, md, oauth_server)
    await _authorize(gw, md, oauth_server, cid)
    # The first token lives 30 s, inside the refresh margin: the call refreshes first.
    assert await _call_api(gw, org, cid, oauth_server) == {"login": "oauth-user"}
    assert oauth_server.refreshes == 1
    await _call_api(gw, org, cid, oauth_server)  # the rotated token was persisted
    assert oauth_server.refreshes == 1

    await raw_db.execute(
        "UPDATE gateway.connections SET expires_at = now() WHERE id = $1", uuid.UUID(cid)
    )
    await asyncio.gather(*(_call_api(gw, org, cid, oauth_server) for _ in range(3)))
    assert oauth_server.refreshes == 2

    for token in list(oauth_server.access):
        oauth_server.revoke(token)
    assert await _call_api(gw, org, cid, oauth_server) == {"login": "oauth-user"}
    assert oauth_server.refreshes == 3
    row = await raw_db.fetchval(
        "SELECT row_to_json(c)::text FROM gateway.connections c WHERE id = $1", uuid.UUID(cid)
    )
    for token in (*oauth_server.access, *oauth_server.refresh):
        assert token not in row


async def test_test_connection_calls_the_app_or_says_it_only_checked_presence(gw: Gateway) -> None:
    md = await gw.token(await gw.org(), Role.EDITOR)
    stub = pb_grpc.ConnectionServiceStub(gw.channel)

    async def check(app: str, token: str, base_url: str) -> pb.TestConnectionResponse:
        created = await stub.CreateConnection(
            pb.CreateConnectionRequest(
                app=app,
                type=ConnectionType.CONNECTION_TYPE_BEARER,
                name=app,
                secrets={"token": token},
                parameters={"base_url": base_url},
            ),
            metadata=md,
        )
        return await stub.TestConnection(
            pb.TestConnectionRequest(connection_id=created.connection.id), metadata=md
        )

    with github.server() as gh, slack.server() as sl:
        good = await check("github", github.TOKEN, gh.url)
        assert good.ok and good.account_label == "octocat" and not good.presence_only
        bad = await check("github", "wrong", gh.url)
        assert not bad.ok and bad.error.type == "AuthError" and "wrong" not in bad.error.message
        good = await check("slack", slack.TOKEN, f"{sl.url}/api")
        assert good.ok and good.account_label == "Acme Workspace"
        bad = await check("slack", "xoxb-wrong", f"{sl.url}/api")
        assert not bad.ok and bad.error.type == "AuthError"
    presence = await check("http", "any", "https://example.test")
    assert presence.ok and presence.presence_only
