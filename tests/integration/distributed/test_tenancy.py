"""Cross-organization access over the real network, on every gRPC method of every service.

The per-service suites check tenancy with an in-process authenticator; here the trigger, log and
connector-gateway processes check tokens remotely through the orchestrator, so this is the check
that the remote path scopes every call too. globex's *owner* (every role, wrong organization)
calls each method on acme's objects: NOT_FOUND (or PERMISSION_DENIED where no role may act across
organizations); methods that address no existing object answer with globex's own data only. The
table must name every method the services' descriptors define.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from distributed_support import Api, Tenant, fan_out, items_input
from google.protobuf.timestamp_pb2 import Timestamp
from scenarist.connector.v1 import connection_service_pb2 as con
from scenarist.connector.v1 import connector_service_pb2 as ctr
from scenarist.connector.v1 import data_store_service_pb2 as ds
from scenarist.connector.v1.connection_pb2 import ConnectionType
from scenarist.connector.v1.field_pb2 import Field
from scenarist.identity.v1 import identity_pb2
from scenarist.identity.v1 import organization_service_pb2 as org
from scenarist.identity.v1 import token_service_pb2 as tok
from scenarist.log.v1 import log_service_pb2 as log
from scenarist.run.v1 import run_service_pb2 as run
from scenarist.scenario.v1 import scenario_service_pb2 as sc
from scenarist.trigger.v1 import webhook_pb2
from scenarist.trigger.v1 import webhook_service_pb2 as wh
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
SERVICES = (
    sc.DESCRIPTOR.services_by_name["ScenarioService"],
    run.DESCRIPTOR.services_by_name["RunService"],
    org.DESCRIPTOR.services_by_name["OrganizationService"],
    tok.DESCRIPTOR.services_by_name["TokenService"],
    log.DESCRIPTOR.services_by_name["LogService"],
    wh.DESCRIPTOR.services_by_name["WebhookService"],
    ctr.DESCRIPTOR.services_by_name["ConnectorService"],
    con.DESCRIPTOR.services_by_name["ConnectionService"],
    ds.DESCRIPTOR.services_by_name["DataStoreService"],
)
Call = Callable[[], Awaitable[Any]]


async def _acme_objects(api: Api, acme: Tenant) -> dict[str, str]:
    """One of everything acme can own, created over the network with acme's tokens."""
    editor = acme.auth(Role.EDITOR)
    scenario_id = await api.create_scenario(acme, fan_out(1, 0, 1), activate=True)
    run_id = await api.start_run(acme, scenario_id, items_input(1))
    await api.finished_runs(acme, [run_id], timeout=60)
    hook = await api.webhooks.CreateWebhook(
        wh.CreateWebhookRequest(scenario_id=scenario_id, auth=webhook_pb2.WEBHOOK_AUTH_NONE),
        metadata=editor,
    )
    connection = await api.connections.CreateConnection(
        con.CreateConnectionRequest(
            app="slack",
            type=ConnectionType.CONNECTION_TYPE_API_KEY,
            name="acme slack",
            secrets={"api_key": "sk-acme"},
        ),
        metadata=editor,
    )
    store = await api.data_stores.CreateDataStore(
        ds.CreateDataStoreRequest(name="Customers", fields=[Field(name="email", type="text")]),
        metadata=editor,
    )
    await api.data_stores.PutRecord(
        ds.PutRecordRequest(data_store_id=store.data_store.id, key="a", data='{"email": "a@x"}'),
        metadata=editor,
    )
    tokens = await api.tokens.ListApiTokens(tok.ListApiTokensRequest(), metadata=acme.auth())
    return {
        "scenario": scenario_id,
        "run": run_id,
        "webhook": hook.webhook.id,
        "connection": connection.connection.id,
        "store": store.data_store.id,
        "token": tokens.tokens[0].id,
    }


def _refused_calls(api: Api, ids: dict[str, str], acme: Tenant, md: Any) -> dict[str, Call]:
    """Calls on acme's objects with globex's owner token; NOT_FOUND unless listed in DENIED_ONLY."""
    s, r, t, o, lg, w = (
        api.scenarios,
        api.runs,
        api.tokens,
        api.organizations,
        api.logs,
        api.webhooks,
    )
    c, d, x = api.connections, api.data_stores, api.connectors
    sid, rid, hid, cid, did = (
        ids["scenario"],
        ids["run"],
        ids["webhook"],
        ids["connection"],
        ids["store"],
    )
    document = fan_out(1, 0, 1)
    return {
        "UpdateScenario": lambda: s.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=sid, document=document), metadata=md
        ),
        "GetScenario": lambda: s.GetScenario(sc.GetScenarioRequest(scenario_id=sid), metadata=md),
        "DeleteScenario": lambda: s.DeleteScenario(
            sc.DeleteScenarioRequest(scenario_id=sid), metadata=md
        ),
        "ActivateScenario": lambda: s.ActivateScenario(
            sc.ActivateScenarioRequest(scenario_id=sid), metadata=md
        ),
        "DeactivateScenario": lambda: s.DeactivateScenario(
            sc.DeactivateScenarioRequest(scenario_id=sid), metadata=md
        ),
        "StartRun": lambda: r.StartRun(run.StartRunRequest(scenario_id=sid), metadata=md),
        "GetRun": lambda: r.GetRun(run.GetRunRequest(run_id=rid), metadata=md),
        "ListRuns": lambda: r.ListRuns(run.ListRunsRequest(scenario_id=sid), metadata=md),
        "CancelRun": lambda: r.CancelRun(run.CancelRunRequest(run_id=rid), metadata=md),
        "StreamRunEvents": lambda: _drain(
            r.StreamRunEvents(run.StreamRunEventsRequest(run_id=rid), metadata=md)
        ),
        "ListIncompleteExecutions": lambda: r.ListIncompleteExecutions(
            run.ListIncompleteExecutionsRequest(scenario_id=sid), metadata=md
        ),
        "RetryIncompleteExecution": lambda: r.RetryIncompleteExecution(
            run.RetryIncompleteExecutionRequest(incomplete_execution_id=f"{rid}/t1"), metadata=md
        ),
        "ResolveIncompleteExecution": lambda: r.ResolveIncompleteExecution(
            run.ResolveIncompleteExecutionRequest(incomplete_execution_id=f"{rid}/t1"), metadata=md
        ),
        "CreateOrganization": lambda: o.CreateOrganization(
            org.CreateOrganizationRequest(name="mine now"), metadata=md
        ),
        "CreateApiToken": lambda: t.CreateApiToken(
            tok.CreateApiTokenRequest(
                name="x", role=identity_pb2.ROLE_VIEWER, organization_id=str(acme.org_id)
            ),
            metadata=md,
        ),
        "RevokeApiToken": lambda: t.RevokeApiToken(
            tok.RevokeApiTokenRequest(token_id=ids["token"]), metadata=md
        ),
        "GetRunLog": lambda: lg.GetRunLog(log.GetRunLogRequest(run_id=rid), metadata=md),
        "GetWebhook": lambda: w.GetWebhook(wh.GetWebhookRequest(webhook_id=hid), metadata=md),
        "RotateWebhook": lambda: w.RotateWebhook(
            wh.RotateWebhookRequest(webhook_id=hid, rotate_url=True), metadata=md
        ),
        "DeleteWebhook": lambda: w.DeleteWebhook(
            wh.DeleteWebhookRequest(webhook_id=hid), metadata=md
        ),
        "AttachWebhook": lambda: w.AttachWebhook(
            wh.AttachWebhookRequest(webhook_id=hid, scenario_id=sid), metadata=md
        ),
        "UpdateWebhook": lambda: w.UpdateWebhook(
            wh.UpdateWebhookRequest(webhook_id=hid, name="mine now"), metadata=md
        ),
        "StartDataStructureCapture": lambda: w.StartDataStructureCapture(
            wh.StartDataStructureCaptureRequest(webhook_id=hid), metadata=md
        ),
        "GetCapturedRequest": lambda: w.GetCapturedRequest(
            wh.GetCapturedRequestRequest(webhook_id=hid), metadata=md
        ),
        "ExecuteModule": lambda: x.ExecuteModule(
            ctr.ExecuteModuleRequest(
                app="slack", module="Post", run=ctr.RunInfo(organization_id=str(acme.org_id))
            ),
            metadata=md,
        ),
        "GetConnection": lambda: c.GetConnection(
            con.GetConnectionRequest(connection_id=cid), metadata=md
        ),
        "TestConnection": lambda: c.TestConnection(
            con.TestConnectionRequest(connection_id=cid), metadata=md
        ),
        "StartOAuthAuthorization": lambda: c.StartOAuthAuthorization(
            con.StartOAuthAuthorizationRequest(
                connection_id=cid, redirect_uri="https://studio.example/callback"
            ),
            metadata=md,
        ),
        "DeleteConnection": lambda: c.DeleteConnection(
            con.DeleteConnectionRequest(connection_id=cid), metadata=md
        ),
        "DeleteDataStore": lambda: d.DeleteDataStore(
            ds.DeleteDataStoreRequest(data_store_id=did), metadata=md
        ),
        "PutRecord": lambda: d.PutRecord(
            ds.PutRecordRequest(data_store_id=did, key="b", data='{"email": "b@x"}'), metadata=md
        ),
        "UpdateRecord": lambda: d.UpdateRecord(
            ds.UpdateRecordRequest(data_store_id=did, key="a", data="{}"), metadata=md
        ),
        "GetRecord": lambda: d.GetRecord(
            ds.GetRecordRequest(data_store_id=did, key="a"), metadata=md
        ),
        "RecordExists": lambda: d.RecordExists(
            ds.RecordExistsRequest(data_store_id=did, key="a"), metadata=md
        ),
        "DeleteRecord": lambda: d.DeleteRecord(
            ds.DeleteRecordRequest(data_store_id=did, key="a"), metadata=md
        ),
        "SearchRecords": lambda: d.SearchRecords(
            ds.SearchRecordsRequest(data_store_id=did), metadata=md
        ),
        "CountRecords": lambda: d.CountRecords(
            ds.CountRecordsRequest(data_store_id=did), metadata=md
        ),
        "DeleteAllRecords": lambda: d.DeleteAllRecords(
            ds.DeleteAllRecordsRequest(data_store_id=did), metadata=md
        ),
    }


# No API token may act across organizations here, whatever its role; ExecuteModule is for the
# executors only (the gateway's internal port), so every token gets PERMISSION_DENIED.
DENIED_ONLY = frozenset({"CreateOrganization", "CreateApiToken", "ExecuteModule"})


async def _own_only_checks(api: Api, ids: dict[str, str], globex: Tenant) -> dict[str, Any]:
    """Methods that name no acme object: what globex gets back is globex's or nothing."""
    md = globex.auth()
    sid = ids["scenario"]
    now = Timestamp()
    now.FromDatetime(datetime.now(UTC))
    editor = globex.auth(Role.EDITOR)
    return {
        "ListScenarios": list(
            (await api.scenarios.ListScenarios(sc.ListScenariosRequest(), metadata=md)).scenarios
        ),
        "ListRunLogs": list(
            (await api.logs.ListRunLogs(log.ListRunLogsRequest(scenario_id=sid), metadata=md)).runs
        ),
        "DeleteRunLogs": _deleted(
            await api.logs.DeleteRunLogs(log.DeleteRunLogsRequest(finished_before=now), metadata=md)
        ),
        "ListWebhooks": list(
            (
                await api.webhooks.ListWebhooks(
                    wh.ListWebhooksRequest(scenario_id=sid), metadata=md
                )
            ).webhooks
        ),
        "ListConnections": list(
            (
                await api.connections.ListConnections(con.ListConnectionsRequest(), metadata=md)
            ).connections
        ),
        "ListDataStores": list(
            (
                await api.data_stores.ListDataStores(ds.ListDataStoresRequest(), metadata=md)
            ).data_stores
        ),
        "ListApiTokens": {
            t.organization_id
            for t in (
                await api.tokens.ListApiTokens(tok.ListApiTokensRequest(), metadata=md)
            ).tokens
        },
        "GetOrganization": (
            await api.organizations.GetOrganization(org.GetOrganizationRequest(), metadata=md)
        ).organization.id,
        # Creating and validating touch only the caller's organization.
        "CreateScenario": (
            await api.scenarios.CreateScenario(
                sc.CreateScenarioRequest(document=fan_out(1, 0, 1)), metadata=editor
            )
        ).scenario.organization_id,
        "ValidateScenario": list(
            (
                await api.scenarios.ValidateScenario(
                    sc.ValidateScenarioRequest(document=fan_out(1, 0, 1)), metadata=md
                )
            ).issues
        ),
        "CreateWebhook": (
            await api.webhooks.CreateWebhook(wh.CreateWebhookRequest(name="own"), metadata=editor)
        ).webhook.organization_id,
        "CreateConnection": (
            await api.connections.CreateConnection(
                con.CreateConnectionRequest(
                    app="slack",
                    type=ConnectionType.CONNECTION_TYPE_API_KEY,
                    name="globex slack",
                    secrets={"api_key": "sk-globex"},
                ),
                metadata=editor,
            )
        ).connection.organization_id,
        # A state is looked up in the caller's organization only: any other is unknown.
        "CompleteOAuthAuthorization": await _code(
            lambda: api.connections.CompleteOAuthAuthorization(
                con.CompleteOAuthAuthorizationRequest(state="acme-state", code="c"),
                metadata=editor,
            )
        ),
        "CreateDataStore": (
            await api.data_stores.CreateDataStore(
                ds.CreateDataStoreRequest(name="Mine", fields=[Field(name="k", type="text")]),
                metadata=editor,
            )
        ).data_store.organization_id,
        # The app catalogue is the platform's, the same for everyone: nothing of acme's in it.
        "ListApps": len((await api.connectors.ListApps(ctr.ListAppsRequest(), metadata=md)).apps),
        "ListModules": len(
            (
                await api.connectors.ListModules(ctr.ListModulesRequest(app="util"), metadata=md)
            ).modules
        ),
    }


def _deleted(response: Any) -> tuple[int, int]:
    return (response.deleted_runs, response.deleted_steps)


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


async def _code(call: Call) -> grpc.StatusCode:
    try:
        await call()
    except grpc.aio.AioRpcError as error:
        return error.code()
    raise AssertionError("the call succeeded")


async def test_every_method_of_every_service_refuses_another_organization(
    api: Api, acme: Tenant, globex: Tenant
) -> None:
    ids = await _acme_objects(api, acme)
    refused = _refused_calls(api, ids, acme, globex.auth())
    own = await _own_only_checks(api, ids, globex)
    every_method = {m.name for service in SERVICES for m in service.methods}
    assert set(refused) | set(own) == every_method
    assert not set(refused) & set(own)

    codes = {name: await _code(call) for name, call in refused.items()}
    expected = {name: DENIED if name in DENIED_ONLY else NOT_FOUND for name in refused}
    assert codes == expected

    mine = str(globex.org_id)
    assert own["ListScenarios"] == [] or all(
        s.organization_id == mine for s in own["ListScenarios"]
    )
    for name in ("ListRunLogs", "ListWebhooks", "ListConnections", "ListDataStores"):
        assert own[name] == [], name
    assert own["DeleteRunLogs"] == (0, 0)
    assert own["ListApiTokens"] == {mine}
    for name in ("GetOrganization", "CreateScenario", "CreateWebhook", "CreateConnection"):
        assert own[name] == mine, name
    assert own["CreateDataStore"] == mine
    assert own["CompleteOAuthAuthorization"] == grpc.StatusCode.INVALID_ARGUMENT
    assert own["ValidateScenario"] == []
    assert own["ListApps"] > 0 and own["ListModules"] > 0

    # Nothing of acme's changed.
    got = await api.scenarios.GetScenario(
        sc.GetScenarioRequest(scenario_id=ids["scenario"]), metadata=acme.auth()
    )
    assert (got.scenario.version, got.scenario.active) == (1, True)
    assert len(await api.run_log(acme, ids["run"])) > 0
    record = await api.data_stores.GetRecord(
        ds.GetRecordRequest(data_store_id=ids["store"], key="a"), metadata=acme.auth()
    )
    assert json.loads(record.record.data) == {"email": "a@x"}


async def test_a_webhook_cannot_target_another_organizations_scenario(
    api: Api, acme: Tenant, globex: Tenant
) -> None:
    scenario_id = await api.create_scenario(acme, fan_out(1, 0, 1), activate=False)
    call = api.webhooks.CreateWebhook(
        wh.CreateWebhookRequest(scenario_id=scenario_id), metadata=globex.auth(Role.EDITOR)
    )
    assert await _code(lambda: call) == NOT_FOUND
