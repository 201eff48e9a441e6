"""Which server each CLI command talks to: in distributed mode (`make up`) every service has its own
gRPC port and local.env names each; in standalone mode one port serves every API. No network: the
gRPC channel is replaced by one that records where each call went and answers an empty reply."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from scenarist.connector.v1 import connection_service_pb2 as con
from scenarist.connector.v1 import data_store_service_pb2 as ds
from scenarist.scenario.v1 import scenario_service_pb2 as sc
from scenarist_cli import main as cli_main
from scenarist_cli.client import ApiClient
from scenarist_cli.config import Api, ClientConfig, ConfigError, resolve

DISTRIBUTED = """\
# Written by deploy/services.sh (make up). Read by the scenarist CLI.
SCENARIST_SERVER=127.0.0.1:50051
SCENARIST_TOKEN=owner-token
SCENARIST_PUBLIC_URL=http://127.0.0.1:8080
SCENARIST_TRIGGER_SERVER=127.0.0.1:50052
SCENARIST_LOG_SERVER=127.0.0.1:50053
SCENARIST_GATEWAY_SERVER=127.0.0.1:50054
"""
STANDALONE = "SCENARIST_SERVER=127.0.0.1:50051\nSCENARIST_TOKEN=owner-token\n"
KEYS = ("SCENARIST_SERVER", "SCENARIST_TOKEN", *(api.value for api in Api))


def _local_env(root: Path, text: str) -> None:
    path = root / ".scenarist" / "local.env"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")


# -- resolution -------------------------------------------------------------------------------


def test_each_api_gets_the_server_local_env_names_for_it(tmp_path: Path) -> None:
    _local_env(tmp_path, DISTRIBUTED)
    config = resolve(None, None, api=Api.LOG, environ={}, cwd=tmp_path)
    assert (config.server, config.token) == ("127.0.0.1:50053", "owner-token")
    assert {api: config.server_for(api) for api in Api} == {
        Api.ORCHESTRATOR: "127.0.0.1:50051",
        Api.TRIGGER: "127.0.0.1:50052",
        Api.LOG: "127.0.0.1:50053",
        Api.GATEWAY: "127.0.0.1:50054",
    }


def test_without_its_own_entry_an_api_uses_scenarist_server(tmp_path: Path) -> None:
    _local_env(tmp_path, STANDALONE)
    config = resolve(None, None, api=Api.TRIGGER, environ={}, cwd=tmp_path)
    assert config.server == "127.0.0.1:50051"
    assert {config.server_for(api) for api in Api} == {"127.0.0.1:50051"}


def test_a_server_flag_is_the_server_of_every_api(tmp_path: Path) -> None:
    _local_env(tmp_path, DISTRIBUTED)
    config = resolve("elsewhere:1", None, api=Api.TRIGGER, environ={}, cwd=tmp_path)
    assert {config.server_for(api) for api in Api} == {"elsewhere:1"}
    assert config.token == "owner-token"


def test_the_environment_wins_over_the_file_as_a_whole(tmp_path: Path) -> None:
    # A SCENARIST_SERVER in the environment points somewhere else: the file's per-service
    # entries belong to another deployment and must not be mixed in.
    _local_env(tmp_path, DISTRIBUTED)
    env = {"SCENARIST_SERVER": "env:1", "SCENARIST_LOG_SERVER": "env-log:2"}
    config = resolve(None, None, api=Api.TRIGGER, environ=env, cwd=tmp_path)
    assert config.server == "env:1"
    assert config.server_for(Api.LOG) == "env-log:2"
    assert config.token == "owner-token"


def test_an_api_needs_only_its_own_server(tmp_path: Path) -> None:
    env = {"SCENARIST_TRIGGER_SERVER": "trigger:2", "SCENARIST_TOKEN": "t"}
    config = resolve(None, None, api=Api.TRIGGER, environ=env, cwd=tmp_path)
    assert config.server == "trigger:2"
    with pytest.raises(ConfigError, match="SCENARIST_LOG_SERVER or SCENARIST_SERVER"):
        config.server_for(Api.LOG)
    with pytest.raises(ConfigError) as raised:
        resolve(None, None, api=Api.ORCHESTRATOR, environ=env, cwd=tmp_path)
    assert "SCENARIST_SERVER" in str(raised.value) and "local.env" in str(raised.value)


def test_a_missing_server_names_the_variables_of_its_api(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve(None, "t", api=Api.GATEWAY, environ={}, cwd=tmp_path)
    assert "SCENARIST_GATEWAY_SERVER or SCENARIST_SERVER" in str(raised.value)


def test_a_config_built_by_hand_keeps_working() -> None:
    config = ClientConfig(server="h:1", token="t", servers={Api.ORCHESTRATOR: "h:1"})
    assert config.server_for(Api.ORCHESTRATOR) == "h:1"


# -- routing of the commands ------------------------------------------------------------------


class _Channel:
    """Stands in for grpc.Channel: every call is recorded and answered with an empty reply."""

    def __init__(self, target: str, calls: list[tuple[str, str]]) -> None:
        self._target = target
        self._calls = calls

    def unary_unary(
        self,
        method: str,
        request_serializer: Any = None,
        response_deserializer: Any = None,
        **_: Any,
    ) -> Callable[..., Any]:
        def call(request: Any, **__: Any) -> Any:
            self._calls.append((self._target, method.rsplit("/", 1)[-1]))
            return response_deserializer(b"")

        return call

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self.unary_unary(method, *args, **kwargs)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self.unary_unary(method, *args, **kwargs)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self.unary_unary(method, *args, **kwargs)

    def close(self) -> None:
        return None

    def __enter__(self) -> _Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    recorded: list[tuple[str, str]] = []
    monkeypatch.setattr(
        grpc, "insecure_channel", lambda target, *a, **k: _Channel(target, recorded)
    )
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    return recorded


ROUTES = [
    (["scenario", "list"], "127.0.0.1:50051", "ListScenarios"),
    (["run", "get", "r1"], "127.0.0.1:50051", "GetRun"),
    (["run", "list"], "127.0.0.1:50051", "ListRuns"),
    (["run", "logs", "r1"], "127.0.0.1:50053", "GetRunLog"),
    (["webhook", "list"], "127.0.0.1:50052", "ListWebhooks"),
    (["webhook", "get", "w1"], "127.0.0.1:50052", "GetWebhook"),
    (["schedule", "list"], "127.0.0.1:50052", "ListSchedules"),
    (["schedule", "pause", "s1"], "127.0.0.1:50052", "PauseSchedule"),
]


@pytest.mark.parametrize(("argv", "server", "method"), ROUTES)
def test_distributed_commands_go_to_the_service_that_owns_them(
    argv: list[str],
    server: str,
    method: str,
    calls: list[tuple[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _local_env(tmp_path, DISTRIBUTED)
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(argv) == 0, capsys.readouterr().err
    assert calls == [(server, method)]
    json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("argv", "method"), [(argv, method) for argv, _, method in ROUTES])
def test_standalone_commands_all_go_to_the_one_port(
    argv: list[str],
    method: str,
    calls: list[tuple[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _local_env(tmp_path, STANDALONE)
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(argv) == 0
    assert calls == [("127.0.0.1:50051", method)]


def test_a_server_flag_sends_the_command_there(
    calls: list[tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local_env(tmp_path, DISTRIBUTED)
    monkeypatch.chdir(tmp_path)
    assert cli_main.main(["run", "logs", "r1", "--server", "other:9"]) == 0
    assert calls == [("other:9", "GetRunLog")]


def test_the_client_reaches_connections_and_data_stores_on_the_gateway(
    calls: list[tuple[str, str]], tmp_path: Path
) -> None:
    _local_env(tmp_path, DISTRIBUTED)
    config = resolve(None, None, environ={}, cwd=tmp_path)
    with ApiClient(config) as client:
        client.connections.ListConnections(con.ListConnectionsRequest())
        client.data_stores.ListDataStores(ds.ListDataStoresRequest())
        client.scenarios.ListScenarios(sc.ListScenariosRequest())
    assert calls == [
        ("127.0.0.1:50054", "ListConnections"),
        ("127.0.0.1:50054", "ListDataStores"),
        ("127.0.0.1:50051", "ListScenarios"),
    ]
