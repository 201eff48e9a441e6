"""The studio's schedule, connection, incomplete-execution, capture and live-run endpoints: roles
checked before any gRPC call, secrets never echoed, the SSE relay, and "determine data
structure" producing a structure the trigger accepts for the very body it came from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import World
from scenarist.connector.v1 import connection_pb2
from scenarist.connector.v1 import connection_service_pb2 as conn_pb
from scenarist.run.v1 import events_pb2, run_pb2
from scenarist.run.v1 import run_service_pb2 as run_pb
from scenarist_storage.models import Role
from scenarist_studio.api.events import relay
from scenarist_studio.problems import ApiError
from scenarist_studio.structure import structure_of
from scenarist_trigger.structure import parse_structure, validate

RUN = "11111111-1111-4111-8111-111111111111"


async def test_viewers_cannot_change_schedules_connections_or_incomplete_executions(
    world: World,
) -> None:
    await world.add_user("vic@example.com", Role.VIEWER)
    headers = {"x-csrf-token": await world.sign_in("vic@example.com")}
    client = world.client
    schedule = {"kind": "interval", "interval_minutes": 15}
    connection = {"app": "github", "type": "bearer", "name": "gh", "secrets": {"token": "t"}}
    refused = [
        await client.post("/api/scenarios/abc/schedules", json=schedule, headers=headers),
        await client.put("/api/schedules/abc", json=schedule, headers=headers),
        await client.post("/api/schedules/abc/pause", headers=headers),
        await client.post("/api/schedules/abc/resume", headers=headers),
        await client.delete("/api/schedules/abc", headers=headers),
        await client.post("/api/connections", json=connection, headers=headers),
        await client.post("/api/connections/abc/test", headers=headers),
        await client.delete("/api/connections/abc", headers=headers),
        await client.post(f"/api/runs/{RUN}/incomplete-executions/t3/retry", headers=headers),
        await client.post(f"/api/runs/{RUN}/incomplete-executions/t3/resolve", headers=headers),
        await client.post("/api/webhooks/abc/capture", headers=headers),
        await client.put("/api/webhooks/abc/data-structure", json={"fields": []}, headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)


async def test_signed_out_callers_get_no_stream(world: World) -> None:
    assert (await world.client.get(f"/api/runs/{RUN}/events")).status_code == 401
    assert (await world.client.get("/api/scenarios/abc/incomplete-executions")).status_code == 401


async def test_schedule_bodies_are_checked_before_any_call(world: World) -> None:
    await world.add_user("ed@example.com", Role.EDITOR)
    headers = {"x-csrf-token": await world.sign_in("ed@example.com")}
    bad = await world.client.post(
        "/api/scenarios/abc/schedules",
        json={"kind": "hourly", "start_at": "2030-01-01T00:00:00"},
        headers=headers,
    )
    assert bad.status_code == 400
    fields = {v["field"] for v in bad.json()["violations"]}
    assert fields == {"kind", "start_at"}  # unknown kind; a start without a time zone


class _Connections:
    """Stands in for ConnectionService: answers like the gateway (secret names only)."""

    def __init__(self) -> None:
        self.seen: list[conn_pb.CreateConnectionRequest] = []

    async def CreateConnection(
        self, request: conn_pb.CreateConnectionRequest, **_: Any
    ) -> conn_pb.CreateConnectionResponse:
        self.seen.append(request)
        return conn_pb.CreateConnectionResponse(
            connection=connection_pb2.Connection(
                id="c1",
                app=request.app,
                type=request.type,
                name=request.name,
                secret_fields=sorted(request.secrets),
            )
        )


async def test_a_new_connection_is_answered_without_its_secret(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _Connections()
    monkeypatch.setattr(world.studio.clients, "connections", fake)
    await world.add_user("ed@example.com", Role.EDITOR)
    headers = {"x-csrf-token": await world.sign_in("ed@example.com")}
    secret = "ghp_s3cr3t-value"
    answer = await world.client.post(
        "/api/connections",
        json={"app": "github", "type": "bearer", "name": "My GitHub", "secrets": {"token": secret}},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    assert secret not in answer.text
    assert answer.json()["secret_fields"] == ["token"] and answer.json()["type"] == "bearer"
    assert fake.seen[0].secrets["token"] == secret


async def _events(items: list[Any], fail: ApiError | None = None) -> AsyncIterator[Any]:
    for item in items:
        yield item
    if fail is not None:
        raise fail


def _event(
    kind: events_pb2.RunEventType.ValueType, status: run_pb2.RunStatus.ValueType, operations: int
) -> run_pb.StreamRunEventsResponse:
    return run_pb.StreamRunEventsResponse(
        event=events_pb2.RunEvent(run_id=RUN, type=kind, status=status, operations=operations)
    )


async def test_the_relay_turns_run_events_into_server_sent_events() -> None:
    items = [
        _event(events_pb2.RUN_EVENT_TYPE_STARTED, run_pb2.RUN_STATUS_RUNNING, 1),
        _event(events_pb2.RUN_EVENT_TYPE_FINISHED, run_pb2.RUN_STATUS_SUCCESS, 3),
    ]
    chunks = [chunk async for chunk in relay(_events(items))]
    text = b"".join(chunks).decode()
    assert text.startswith("retry: ")
    assert 'event: run\ndata: {"run_id":"' + RUN + '","type":"started","status":"running"' in text
    assert '"type":"finished","status":"success","operations":3' in text
    assert text.endswith("event: end\ndata: {}\n\n")


async def test_the_relay_reports_a_failed_stream_and_keeps_idle_ones_alive() -> None:
    failed = b"".join(
        [c async for c in relay(_events([], ApiError(404, "Not found", "run not found")))]
    )
    assert b'event: failed\ndata: {"type":"about:blank","title":"Not found"' in failed

    async def slow() -> AsyncIterator[Any]:
        await asyncio.sleep(0.05)
        yield _event(events_pb2.RUN_EVENT_TYPE_FINISHED, run_pb2.RUN_STATUS_SUCCESS, 1)

    idle = b"".join([c async for c in relay(slow(), keepalive=0.01)])
    assert b": keepalive\n\n" in idle and idle.endswith(b"event: end\ndata: {}\n\n")


def test_a_determined_structure_accepts_the_body_it_came_from() -> None:
    body = {
        "email": "ada@example.com",
        "amount": 142.5,
        "vip": True,
        "note": None,
        "customer": {"name": "Ada", "tags": ["a", "b"]},
        "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "gift": True}],
        "mixed": [1, "x"],
    }
    structure = structure_of(body)
    by_name = {f["name"]: f for f in structure}
    assert [f["name"] for f in structure] == list(body)
    assert by_name["email"]["type"] == "text" and by_name["amount"]["type"] == "number"
    assert by_name["vip"]["type"] == "boolean" and by_name["note"]["type"] == "any"
    customer = by_name["customer"]
    assert customer["type"] == "collection"
    assert [(f["name"], f["type"]) for f in customer["fields"]] == [
        ("name", "text"),
        ("tags", "array"),
    ]
    items = by_name["items"]
    assert items["type"] == "array"
    assert [(f["name"], f["type"]) for f in items["fields"]] == [
        ("sku", "text"),
        ("qty", "number"),
        ("gift", "boolean"),
    ]
    assert not any(f["required"] for f in structure)
    assert validate(parse_structure(structure), body, {}) == []
    assert structure_of(["not", "an", "object"]) == []
