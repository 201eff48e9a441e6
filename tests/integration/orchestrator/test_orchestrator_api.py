"""Every ScenarioService and RunService RPC over a real channel, as one organization."""

from __future__ import annotations

import json

import grpc
import pytest
from orchestrator_support import GREETING, INVALID, Stack, rpc_error, violations
from scenarist.run.v1 import run_pb2, run_service_pb2
from scenarist.run.v1.events_pb2 import RunEventType
from scenarist.scenario.v1 import scenario_service_pb2 as sc
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration

Status = run_pb2.RunStatus

SLOW = """\
name: Slow
flow:
  - {id: 1, module: gateway:CustomWebHook}
  - {id: 2, module: util:FunctionSleep, mapper: {duration: 2}}
  - {id: 3, module: util:ComposeTransformer, mapper: {value: done}}
"""


async def test_scenario_lifecycle(stack: Stack) -> None:
    editor = stack.acme.auth(Role.EDITOR)
    created = await stack.create_scenario(stack.acme)
    assert (created.name, created.version, created.active) == ("Greeting", 1, False)
    assert created.organization_id == str(stack.acme.org_id)
    assert json.loads(created.document)["flow"][0]["module"] == "gateway:CustomWebHook"

    as_json = json.dumps(
        {"name": "Greeting", "flow": [{"id": 1, "module": "gateway:CustomWebHook"}]}
    )
    updated = (
        await stack.scenarios.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=created.id, document=as_json), metadata=editor
        )
    ).scenario
    assert (updated.id, updated.version) == (created.id, 2)
    stale = await rpc_error(
        stack.scenarios.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=created.id, document=as_json, expected_version=1),
            metadata=editor,
        )
    )
    assert stale.code() is grpc.StatusCode.ABORTED

    first = await stack.scenarios.GetScenario(
        sc.GetScenarioRequest(scenario_id=created.id, version=1),
        metadata=stack.acme.auth(Role.VIEWER),
    )
    assert len(json.loads(first.scenario.document)["flow"]) == 3
    listed = await stack.scenarios.ListScenarios(sc.ListScenariosRequest(), metadata=editor)
    assert [(s.id, s.version, s.document) for s in listed.scenarios] == [(created.id, 2, "")]

    active = await stack.scenarios.ActivateScenario(
        sc.ActivateScenarioRequest(scenario_id=created.id), metadata=editor
    )
    assert active.scenario.active
    only_active = await stack.scenarios.ListScenarios(
        sc.ListScenariosRequest(active=True), metadata=editor
    )
    assert [s.id for s in only_active.scenarios] == [created.id]
    inactive = await stack.scenarios.DeactivateScenario(
        sc.DeactivateScenarioRequest(scenario_id=created.id), metadata=editor
    )
    assert not inactive.scenario.active

    await stack.scenarios.DeleteScenario(
        sc.DeleteScenarioRequest(scenario_id=created.id), metadata=editor
    )
    gone = await rpc_error(
        stack.scenarios.GetScenario(sc.GetScenarioRequest(scenario_id=created.id), metadata=editor)
    )
    assert gone.code() is grpc.StatusCode.NOT_FOUND


async def test_invalid_documents_and_requests_get_field_details(stack: Stack) -> None:
    editor = stack.acme.auth(Role.EDITOR)
    error = await rpc_error(
        stack.scenarios.CreateScenario(sc.CreateScenarioRequest(document=INVALID), metadata=editor)
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    found = violations(error)
    assert ("document.flow[1].mapper.value", found[0][1]) in found
    assert any(f == "document.flow[2].module" and "module 3" in d for f, d in found), found
    assert any("module 2" in d and "9" in d for _, d in found), found
    listed = await stack.scenarios.ListScenarios(sc.ListScenariosRequest(), metadata=editor)
    assert list(listed.scenarios) == []  # nothing stored

    not_yaml = await rpc_error(
        stack.scenarios.CreateScenario(
            sc.CreateScenarioRequest(document="name: [unclosed"), metadata=editor
        )
    )
    assert not_yaml.code() is grpc.StatusCode.INVALID_ARGUMENT and violations(not_yaml)

    created = await stack.create_scenario(stack.acme)
    update = await rpc_error(
        stack.scenarios.UpdateScenario(
            sc.UpdateScenarioRequest(scenario_id=created.id, document=INVALID), metadata=editor
        )
    )
    assert update.code() is grpc.StatusCode.INVALID_ARGUMENT and violations(update)

    checked = await stack.scenarios.ValidateScenario(
        sc.ValidateScenarioRequest(document=INVALID), metadata=stack.acme.auth(Role.VIEWER)
    )
    assert {i.module_id for i in checked.issues if i.HasField("module_id")} >= {2, 3}
    valid = await stack.scenarios.ValidateScenario(
        sc.ValidateScenarioRequest(document=GREETING), metadata=editor
    )
    assert list(valid.issues) == []

    for bad_input, problem in (("[1, 2]", "JSON object"), ("{nope", "not valid JSON")):
        refused = await rpc_error(
            stack.runs.StartRun(
                run_service_pb2.StartRunRequest(scenario_id=created.id, input=bad_input),
                metadata=editor,
            )
        )
        assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert [f for f, d in violations(refused) if problem in d] == ["input"]
    bad_id = await rpc_error(
        stack.runs.GetRun(run_service_pb2.GetRunRequest(run_id="x"), metadata=editor)
    )
    assert violations(bad_id) == [("run_id", "must be a UUID")]


async def test_a_started_run_completes_and_is_listed(stack: Stack) -> None:
    owner = stack.acme.auth()
    scenario = await stack.create_scenario(stack.acme)
    queued = await stack.start_run(stack.acme, scenario.id, '{"name": "Ada"}')
    assert queued.status == Status.RUN_STATUS_QUEUED and queued.id
    assert (queued.scenario_id, queued.scenario_version) == (scenario.id, 1)

    events = [
        response.event
        async for response in stack.runs.StreamRunEvents(
            run_service_pb2.StreamRunEventsRequest(run_id=queued.id), metadata=owner
        )
    ]
    assert events[-1].type == RunEventType.RUN_EVENT_TYPE_FINISHED
    assert events[-1].status == Status.RUN_STATUS_SUCCESS

    run = await stack.finished_run(stack.acme, queued.id)
    assert run.status == Status.RUN_STATUS_SUCCESS
    assert run.operations == 3
    assert run.trigger_source == run_pb2.TriggerSource.TRIGGER_SOURCE_API
    assert run.HasField("started_at") and run.HasField("finished_at")
    assert json.loads(run.response)["body"] == "Hello Ada"

    # A finished run streams one FINISHED event and closes.
    replay = [
        r.event
        async for r in stack.runs.StreamRunEvents(
            run_service_pb2.StreamRunEventsRequest(run_id=run.id), metadata=owner
        )
    ]
    assert [e.type for e in replay] == [RunEventType.RUN_EVENT_TYPE_FINISHED]

    second = await stack.start_run(stack.acme, scenario.id, '{"name": "Grace"}')
    await stack.finished_run(stack.acme, second.id)
    page = await stack.runs.ListRuns(
        run_service_pb2.ListRunsRequest(scenario_id=scenario.id, page_size=1), metadata=owner
    )
    assert [r.id for r in page.runs] == [second.id] and page.next_page_token
    rest = await stack.runs.ListRuns(
        run_service_pb2.ListRunsRequest(
            scenario_id=scenario.id, page_size=1, page_token=page.next_page_token
        ),
        metadata=owner,
    )
    assert [r.id for r in rest.runs] == [run.id]
    failed = await stack.runs.ListRuns(
        run_service_pb2.ListRunsRequest(statuses=[Status.RUN_STATUS_ERROR]), metadata=owner
    )
    assert list(failed.runs) == []


async def test_idempotency_key_returns_the_earlier_run(stack: Stack) -> None:
    scenario = await stack.create_scenario(stack.acme)
    request = run_service_pb2.StartRunRequest(
        scenario_id=scenario.id, input='{"name": "Ada"}', idempotency_key="order-1"
    )
    editor = stack.acme.auth(Role.EDITOR)
    first = (await stack.runs.StartRun(request, metadata=editor)).run
    again = (await stack.runs.StartRun(request, metadata=editor)).run
    assert again.id == first.id
    await stack.finished_run(stack.acme, first.id)
    listed = await stack.runs.ListRuns(
        run_service_pb2.ListRunsRequest(scenario_id=scenario.id), metadata=editor
    )
    assert [r.id for r in listed.runs] == [first.id]


async def test_cancel_a_running_run(stack: Stack) -> None:
    editor = stack.acme.auth(Role.EDITOR)
    scenario = await stack.create_scenario(stack.acme, SLOW)
    started = await stack.start_run(stack.acme, scenario.id)
    stream = stack.runs.StreamRunEvents(
        run_service_pb2.StreamRunEventsRequest(run_id=started.id), metadata=editor
    )
    first = await stream.read()
    assert first.event.type == RunEventType.RUN_EVENT_TYPE_STARTED  # the sleep is in flight

    cancelled = (
        await stack.runs.CancelRun(
            run_service_pb2.CancelRunRequest(run_id=started.id), metadata=editor
        )
    ).run
    assert cancelled.status == Status.RUN_STATUS_CANCELLED
    assert cancelled.HasField("finished_at")
    rest = []
    while (message := await stream.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
        rest.append(message.event)
    assert rest[-1].type == RunEventType.RUN_EVENT_TYPE_CANCELLED

    again = await stack.runs.CancelRun(
        run_service_pb2.CancelRunRequest(run_id=started.id), metadata=editor
    )
    assert again.run.status == Status.RUN_STATUS_CANCELLED

    quick = await stack.create_scenario(stack.acme)
    done = await stack.start_run(stack.acme, quick.id)
    await stack.finished_run(stack.acme, done.id)
    late = await rpc_error(
        stack.runs.CancelRun(run_service_pb2.CancelRunRequest(run_id=done.id), metadata=editor)
    )
    assert late.code() is grpc.StatusCode.FAILED_PRECONDITION
