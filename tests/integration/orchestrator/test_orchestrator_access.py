"""Tenancy and roles on every RPC: another organization's objects are NOT_FOUND, roles are
PERMISSION_DENIED, unknown and revoked tokens UNAUTHENTICATED."""

from __future__ import annotations

import grpc
import pytest
from orchestrator_support import GREETING, Stack, refused, rpc_error
from scenarist.identity.v1 import (
    identity_pb2,
)
from scenarist.identity.v1 import (
    organization_service_pb2 as org_pb,
)
from scenarist.identity.v1 import (
    token_service_pb2 as tok_pb,
)
from scenarist.run.v1 import run_service_pb2 as run_pb
from scenarist.scenario.v1 import scenario_service_pb2 as sc
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
ProtoRole = identity_pb2.Role


async def test_every_method_refuses_another_organizations_objects(stack: Stack) -> None:
    scenario = await stack.create_scenario(stack.acme)
    run = await stack.start_run(stack.acme, scenario.id, '{"name": "Ada"}')
    await stack.finished_run(stack.acme, run.id)
    live = await stack.start_run(stack.acme, scenario.id, '{"name": "Bob"}')
    token_id = (
        (
            await stack.tokens.ListApiTokens(
                tok_pb.ListApiTokensRequest(), metadata=stack.acme.auth()
            )
        )
        .tokens[0]
        .id
    )
    other = stack.globex.auth()  # globex's owner: every role, wrong organization
    s, r, t, o = stack.scenarios, stack.runs, stack.tokens, stack.organizations
    sid = scenario.id
    calls = {
        "UpdateScenario": lambda: s.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=sid, document=GREETING), metadata=other
        ),
        "GetScenario": lambda: s.GetScenario(
            sc.GetScenarioRequest(scenario_id=sid), metadata=other
        ),
        "DeleteScenario": lambda: s.DeleteScenario(
            sc.DeleteScenarioRequest(scenario_id=sid), metadata=other
        ),
        "ActivateScenario": lambda: s.ActivateScenario(
            sc.ActivateScenarioRequest(scenario_id=sid), metadata=other
        ),
        "DeactivateScenario": lambda: s.DeactivateScenario(
            sc.DeactivateScenarioRequest(scenario_id=sid), metadata=other
        ),
        "StartRun": lambda: r.StartRun(run_pb.StartRunRequest(scenario_id=sid), metadata=other),
        "GetRun": lambda: r.GetRun(run_pb.GetRunRequest(run_id=run.id), metadata=other),
        "ListRuns": lambda: r.ListRuns(run_pb.ListRunsRequest(scenario_id=sid), metadata=other),
        "CancelRun": lambda: r.CancelRun(run_pb.CancelRunRequest(run_id=live.id), metadata=other),
        "StreamRunEvents": lambda: _drain(
            r.StreamRunEvents(run_pb.StreamRunEventsRequest(run_id=run.id), metadata=other)
        ),
        "RevokeApiToken": lambda: t.RevokeApiToken(
            tok_pb.RevokeApiTokenRequest(token_id=token_id), metadata=other
        ),
        "CreateApiToken": lambda: t.CreateApiToken(
            tok_pb.CreateApiTokenRequest(
                name="x", role=ProtoRole.ROLE_VIEWER, organization_id=str(stack.acme.org_id)
            ),
            metadata=other,
        ),
        "CreateOrganization": lambda: o.CreateOrganization(
            org_pb.CreateOrganizationRequest(name="mine now"), metadata=other
        ),
    }
    for name, call in calls.items():
        code = await refused(call, NOT_FOUND, DENIED)
        expected = DENIED if name in ("CreateApiToken", "CreateOrganization") else NOT_FOUND
        assert code is expected, name

    # Listings and "who am I" only ever show the caller's own organization.
    assert list((await s.ListScenarios(sc.ListScenariosRequest(), metadata=other)).scenarios) == []
    assert list((await r.ListRuns(run_pb.ListRunsRequest(), metadata=other)).runs) == []
    theirs = await t.ListApiTokens(tok_pb.ListApiTokensRequest(), metadata=other)
    assert {tok.organization_id for tok in theirs.tokens} == {str(stack.globex.org_id)}
    me = await o.GetOrganization(org_pb.GetOrganizationRequest(), metadata=other)
    assert me.organization.id == str(stack.globex.org_id)
    assert me.role == ProtoRole.ROLE_OWNER
    checked = await s.ValidateScenario(
        sc.ValidateScenarioRequest(document=GREETING), metadata=other
    )
    assert list(checked.issues) == []

    # Nothing changed for acme.
    mine = await s.GetScenario(sc.GetScenarioRequest(scenario_id=sid), metadata=stack.acme.auth())
    assert (mine.scenario.version, mine.scenario.active) == (1, False)
    assert (await stack.finished_run(stack.acme, live.id)).status != 6  # not cancelled


async def _drain(stream: object) -> None:
    async for _ in stream:  # type: ignore[attr-defined]
        pass


async def test_viewers_cannot_write_and_only_owners_manage_tokens(stack: Stack) -> None:
    scenario = await stack.create_scenario(stack.acme)
    viewer = stack.acme.auth(Role.VIEWER)
    editor = stack.acme.auth(Role.EDITOR)
    s, r, t = stack.scenarios, stack.runs, stack.tokens
    sid = scenario.id
    writes = [
        lambda: s.CreateScenario(sc.CreateScenarioRequest(document=GREETING), metadata=viewer),
        lambda: s.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=sid, document=GREETING), metadata=viewer
        ),
        lambda: s.DeleteScenario(sc.DeleteScenarioRequest(scenario_id=sid), metadata=viewer),
        lambda: s.ActivateScenario(sc.ActivateScenarioRequest(scenario_id=sid), metadata=viewer),
        lambda: s.DeactivateScenario(
            sc.DeactivateScenarioRequest(scenario_id=sid), metadata=viewer
        ),
        lambda: r.StartRun(run_pb.StartRunRequest(scenario_id=sid), metadata=viewer),
        lambda: r.CancelRun(run_pb.CancelRunRequest(run_id=sid), metadata=viewer),
    ]
    token_calls = [
        lambda: t.ListApiTokens(tok_pb.ListApiTokensRequest(), metadata=editor),
        lambda: t.CreateApiToken(
            tok_pb.CreateApiTokenRequest(name="x", role=ProtoRole.ROLE_VIEWER), metadata=editor
        ),
        lambda: t.RevokeApiToken(tok_pb.RevokeApiTokenRequest(token_id=sid), metadata=editor),
    ]
    for call in [*writes, *token_calls]:
        await refused(call, DENIED)
    # Reading is fine for a viewer.
    got = await s.GetScenario(sc.GetScenarioRequest(scenario_id=sid), metadata=viewer)
    assert got.scenario.id == sid
    assert len((await s.ListScenarios(sc.ListScenariosRequest(), metadata=viewer)).scenarios) == 1


async def test_tokens_are_shown_once_and_revocation_is_immediate(stack: Stack) -> None:
    owner = stack.acme.auth()
    created = await stack.tokens.CreateApiToken(
        tok_pb.CreateApiTokenRequest(name="ci", role=ProtoRole.ROLE_EDITOR), metadata=owner
    )
    assert created.secret.startswith(created.token.prefix)
    assert created.token.role == ProtoRole.ROLE_EDITOR
    ci = (("authorization", f"Bearer {created.secret}"),)
    me = await stack.organizations.GetOrganization(org_pb.GetOrganizationRequest(), metadata=ci)
    assert (me.organization.id, me.role) == (str(stack.acme.org_id), ProtoRole.ROLE_EDITOR)
    listed = await stack.tokens.ListApiTokens(tok_pb.ListApiTokensRequest(), metadata=owner)
    assert listed.tokens[0].id == created.token.id  # newest first, and never the secret
    assert created.secret not in str(listed)

    revoked = await stack.tokens.RevokeApiToken(
        tok_pb.RevokeApiTokenRequest(token_id=created.token.id), metadata=owner
    )
    assert revoked.token.HasField("revoked_at")
    error = await rpc_error(
        stack.organizations.GetOrganization(org_pb.GetOrganizationRequest(), metadata=ci)
    )
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    live = await stack.tokens.ListApiTokens(tok_pb.ListApiTokensRequest(), metadata=owner)
    assert created.token.id not in {tok.id for tok in live.tokens}
    everything = await stack.tokens.ListApiTokens(
        tok_pb.ListApiTokensRequest(include_revoked=True, page_size=1), metadata=owner
    )
    assert len(everything.tokens) == 1 and everything.next_page_token

    for metadata in ((), (("authorization", "Bearer sct_nope"),), (("authorization", "Basic x"),)):
        missing = await rpc_error(
            stack.scenarios.ListScenarios(sc.ListScenariosRequest(), metadata=metadata)
        )
        assert missing.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_the_shared_bootstrap_mints_a_working_owner_token(stack: Stack) -> None:
    bootstrap = stack.hosted.host.shared["bootstrap_admin"]
    org_id, token = await bootstrap(mint=True)  # organizations exist: the oldest one's
    assert token is not None
    me = await stack.organizations.GetOrganization(
        org_pb.GetOrganizationRequest(), metadata=(("authorization", f"Bearer {token}"),)
    )
    assert (me.organization.id, me.role) == (str(org_id), ProtoRole.ROLE_OWNER)
    assert await bootstrap() == (org_id, None)
