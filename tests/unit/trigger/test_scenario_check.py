"""Where the trigger asks whether a scenario is the caller's (no network: only the choice of the
orchestrator's address; tests/integration/trigger/test_scenario_tenancy.py asks for real)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from scenarist_runtime.settings import ServiceSettings
from scenarist_trigger.scenario_check import (
    SHARED_KEY,
    OrchestratorScenarioCheck,
    orchestrator_check,
    own_port_target,
)


@pytest.mark.parametrize(
    ("grpc_host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1:4711"),
        ("0.0.0.0", "127.0.0.1:4711"),
        ("::", "127.0.0.1:4711"),
        ("10.1.2.3", "10.1.2.3:4711"),
        ("::1", "[::1]:4711"),
    ],
)
def test_standalone_asks_the_port_this_process_bound(grpc_host: str, expected: str) -> None:
    settings = ServiceSettings(mode="standalone", grpc_host=grpc_host, grpc_port=0)
    assert own_port_target(settings, {"grpc_port": 4711})() == expected


def test_the_port_is_read_when_asked_since_the_host_binds_it_after_starting_services() -> None:
    shared: dict[str, Any] = {}
    target = own_port_target(ServiceSettings(mode="standalone"), shared)
    with pytest.raises(RuntimeError):
        target()
    shared["grpc_port"] = 5000
    assert target() == "127.0.0.1:5000"


def test_distributed_asks_the_orchestrator_target() -> None:
    settings = ServiceSettings(mode="distributed", orchestrator_target="orch:50051")
    check = orchestrator_check(settings, {"grpc_port": 1})
    assert isinstance(check, OrchestratorScenarioCheck)
    assert check._target() == "orch:50051"


def test_a_stand_in_from_shared_wins() -> None:
    class Anything:
        async def require(self, context: Any, scenario_id: uuid.UUID) -> None:
            return None

    stand_in = Anything()
    assert orchestrator_check(ServiceSettings(mode="distributed"), {SHARED_KEY: stand_in}) is (
        stand_in
    )
