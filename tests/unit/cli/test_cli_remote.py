"""The CLI's client side without a network: where it finds server and token, how it prints
results and gRPC errors, and which `run` commands go to a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped]
from scenarist.run.v1 import run_pb2
from scenarist.scenario.v1 import scenario_pb2
from scenarist_cli import main as cli_main
from scenarist_cli.config import ConfigError, find_local_env, parse_env_file, resolve
from scenarist_cli.output import as_dict, error_report, exit_code_for, render

# -- configuration ----------------------------------------------------------------------------


def _local_env(root: Path, text: str) -> Path:
    path = root / ".scenarist" / "local.env"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_flags_win_over_the_environment_and_the_file(tmp_path: Path) -> None:
    _local_env(tmp_path, "SCENARIST_SERVER=file:1\nSCENARIST_TOKEN=file-token\n")
    env = {"SCENARIST_SERVER": "env:2", "SCENARIST_TOKEN": "env-token"}
    config = resolve("flag:3", None, environ=env, cwd=tmp_path)
    assert (config.server, config.token) == ("flag:3", "env-token")


def test_the_file_is_found_in_a_parent_directory(tmp_path: Path) -> None:
    _local_env(tmp_path, "# written by make run\nexport SCENARIST_SERVER='127.0.0.1:50051'\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_local_env(nested) == tmp_path / ".scenarist" / "local.env"
    config = resolve(None, None, environ={"SCENARIST_TOKEN": "t"}, cwd=nested)
    assert (config.server, config.token) == ("127.0.0.1:50051", "t")


def test_env_file_lines() -> None:
    text = '\n# comment\nA=1\nexport B="two words"\nC = 3 \nnot a pair\n=empty\nD=a=b\n'
    assert parse_env_file(text) == {"A": "1", "B": "two words", "C": "3", "D": "a=b"}


def test_missing_settings_say_where_the_cli_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve(None, None, environ={}, cwd=tmp_path)
    message = str(raised.value)
    assert "SCENARIST_SERVER" in message and "token" in message and "local.env" in message


def test_a_remote_command_without_a_server_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCENARIST_SERVER", raising=False)
    monkeypatch.delenv("SCENARIST_TOKEN", raising=False)
    assert cli_main.main(["scenario", "list"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--server" in json.loads(captured.err)["error"]


# -- command routing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "remote"),
    [
        (["run", "start", "id"], True),
        (["--server", "h:1", "run", "get", "id"], True),
        (["--token=t", "run", "logs", "id"], True),
        (["run", "examples/order-router.yaml"], False),
        (["run"], False),
        (["scenario", "list"], False),
    ],
)
def test_run_verbs_go_to_the_server_and_files_run_locally(argv: list[str], remote: bool) -> None:
    assert cli_main._is_remote_run(argv) is remote


def test_server_and_token_are_accepted_after_the_command() -> None:
    args = cli_main.build_parser(remote_run=True).parse_args(
        ["run", "get", "r1", "--server", "h:1", "--token", "t"]
    )
    assert (args.server, args.token, args.run_id) == ("h:1", "t", "r1")
    args = cli_main.build_parser().parse_args(["--server", "h:2", "scenario", "get", "s1"])
    assert (args.server, args.id, args.version) == ("h:2", "s1", 0)


# -- output -----------------------------------------------------------------------------------


def test_messages_print_with_field_names_and_decoded_json_text() -> None:
    run = run_pb2.Run(
        id="r1",
        status=run_pb2.RunStatus.RUN_STATUS_SUCCESS,
        operations=3,
        response='{"status": 200, "body": "Hello"}',
    )
    assert as_dict(run) == {
        "id": "r1",
        "status": "RUN_STATUS_SUCCESS",
        "operations": 3,
        "response": {"status": 200, "body": "Hello"},
    }
    scenario = scenario_pb2.Scenario(id="s1", document="not json")
    assert as_dict(scenario)["document"] == "not json"


def test_pretty_only_for_a_terminal() -> None:
    assert render({"a": [1]}, pretty=False) == '{"a": [1]}'
    assert render({"a": [1]}, pretty=True) == '{\n  "a": [\n    1\n  ]\n}'


class FailedCall(grpc.RpcError, grpc.Call):
    """What a failed blocking call raises: an RpcError that is also a Call."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing: Any = ()) -> None:
        self._code, self._details, self._trailing = code, details, trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> Any:
        return self._trailing

    def initial_metadata(self) -> Any:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float:
        return 0.0

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


def test_invalid_argument_prints_its_field_violations_and_exits_2() -> None:
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field="document.flow[1].mapper.value", description="module 2: refers to module 9"
            )
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad_request)
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message="invalid scenario document", details=[detail]
    )
    trailing = (("grpc-status-details-bin", status.SerializeToString()),)
    error = FailedCall(grpc.StatusCode.INVALID_ARGUMENT, "invalid scenario document", trailing)
    assert error_report(error) == {
        "error": "invalid scenario document",
        "code": "INVALID_ARGUMENT",
        "violations": [
            {
                "field": "document.flow[1].mapper.value",
                "description": "module 2: refers to module 9",
            }
        ],
    }
    assert exit_code_for(error) == 2


def test_other_errors_exit_1() -> None:
    error = FailedCall(grpc.StatusCode.NOT_FOUND, "scenario not found")
    assert error_report(error) == {
        "error": "scenario not found",
        "code": "NOT_FOUND",
        "violations": [],
    }
    assert exit_code_for(error) == 1
