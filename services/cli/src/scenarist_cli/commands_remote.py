"""Commands that talk to a Scenarist server over gRPC: `scenario ...` and `run ...`.

Every command prints JSON (indented on a terminal). A gRPC error prints its status code, message
and field violations as JSON on stderr and exits 2 for invalid input, 1 otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from scenarist.run.v1 import run_pb2
from scenarist.run.v1 import run_service_pb2 as run_req
from scenarist.scenario.v1 import scenario_service_pb2 as scenario_req
from scenarist_engine.errors import ScenaristError
from scenarist_engine.model.loading import load_scenario_text

from scenarist_cli.client import ApiClient
from scenarist_cli.config import Api, ConfigError, resolve
from scenarist_cli.output import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    as_dict,
    error_report,
    exit_code_for,
    print_error,
    print_json,
)

Handler = Callable[[ApiClient, argparse.Namespace], int]
DEFAULT_WAIT_SECONDS = 300.0
DEFAULT_RUN_LIMIT = 50
FAILED_STATUSES = {run_pb2.RunStatus.RUN_STATUS_ERROR, run_pb2.RunStatus.RUN_STATUS_CANCELLED}


def _document_name(text: str) -> str | None:
    """The document's name, read locally; None lets the server report what is wrong."""
    try:
        return load_scenario_text(text).name
    except ScenaristError:
        return None


# ----- scenario -------------------------------------------------------------------------------


def scenario_apply(api: ApiClient, args: argparse.Namespace) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    name = _document_name(text)
    existing = api.find_by_name(name) if name else None
    if existing is None:
        created = api.scenarios.CreateScenario(
            scenario_req.CreateScenarioRequest(document=text), **_call(api)
        ).scenario
        scenario, action = created, "created"
    else:
        scenario = api.scenarios.UpdateScenario(
            scenario_req.UpdateScenarioRequest(scenario_id=existing.id, document=text),
            **_call(api),
        ).scenario
        action = "updated"
    print_json(
        {"id": scenario.id, "name": scenario.name, "version": scenario.version, "action": action}
    )
    return EXIT_OK


def scenario_list(api: ApiClient, args: argparse.Namespace) -> int:
    print_json({"scenarios": [as_dict(s) for s in api.all_scenarios(args.name or "")]})
    return EXIT_OK


def scenario_get(api: ApiClient, args: argparse.Namespace) -> int:
    request = scenario_req.GetScenarioRequest(scenario_id=args.id, version=args.version)
    print_json(as_dict(api.scenarios.GetScenario(request, **_call(api)).scenario))
    return EXIT_OK


def scenario_activate(api: ApiClient, args: argparse.Namespace) -> int:
    request = scenario_req.ActivateScenarioRequest(scenario_id=args.id)
    print_json(_summary(as_dict(api.scenarios.ActivateScenario(request, **_call(api)).scenario)))
    return EXIT_OK


def scenario_deactivate(api: ApiClient, args: argparse.Namespace) -> int:
    request = scenario_req.DeactivateScenarioRequest(scenario_id=args.id)
    print_json(_summary(as_dict(api.scenarios.DeactivateScenario(request, **_call(api)).scenario)))
    return EXIT_OK


def _summary(scenario: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in scenario.items() if key != "document"}


# ----- run ------------------------------------------------------------------------------------


def run_start(api: ApiClient, args: argparse.Namespace) -> int:
    if args.input is not None:
        try:
            value = json.loads(args.input)
        except json.JSONDecodeError as exc:
            print_error(
                {"error": f"--input is not valid JSON: {exc}", "code": "", "violations": []}
            )
            return EXIT_INVALID
        if not isinstance(value, dict):
            print_error({"error": "--input must be a JSON object", "code": "", "violations": []})
            return EXIT_INVALID
    request = run_req.StartRunRequest(
        scenario_id=args.scenario_id,
        input=args.input or "",
        source=run_pb2.TriggerSource.TRIGGER_SOURCE_MANUAL,
    )
    run = api.runs.StartRun(request, **_call(api)).run
    if args.wait:
        run = api.follow(run.id, args.timeout)
    print_json(as_dict(run))
    return EXIT_FAILED if args.wait and run.status in FAILED_STATUSES else EXIT_OK


def run_get(api: ApiClient, args: argparse.Namespace) -> int:
    print_json(
        as_dict(api.runs.GetRun(run_req.GetRunRequest(run_id=args.run_id), **_call(api)).run)
    )
    return EXIT_OK


def run_list(api: ApiClient, args: argparse.Namespace) -> int:
    statuses = [run_pb2.RunStatus.Value(f"RUN_STATUS_{s.upper()}") for s in args.status or ()]
    runs = api.all_runs(args.scenario or "", statuses)
    # A history grows without bound: a bare `run list` printed every run there ever was.
    shown = itertools.islice(runs, args.limit) if args.limit else runs
    print_json({"runs": [as_dict(r) for r in shown]})
    return EXIT_OK


def run_cancel(api: ApiClient, args: argparse.Namespace) -> int:
    request = run_req.CancelRunRequest(run_id=args.run_id)
    print_json(as_dict(api.runs.CancelRun(request, **_call(api)).run))
    return EXIT_OK


def run_logs(api: ApiClient, args: argparse.Namespace) -> int:
    steps = [as_dict(step) for page in api.all_steps(args.run_id) for step in page.steps]
    print_json({"run_id": args.run_id, "steps": steps})
    return EXIT_OK


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all) or more")
    return value


def _local_error(message: str) -> int:
    print_error({"error": message, "code": "", "violations": []})
    return EXIT_INVALID


def _call(api: ApiClient) -> dict[str, Any]:
    return api.call_options()


RUN_VERBS = frozenset({"start", "get", "list", "cancel", "logs"})


# ----- wiring ---------------------------------------------------------------------------------

STATUS_CHOICES = ["queued", "running", "success", "warning", "error", "cancelled"]


def connection_options() -> argparse.ArgumentParser:
    """--server/--token, accepted before or after the command (defaults stay unset here so a
    value given before the command is not overwritten)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--server", default=argparse.SUPPRESS, help="HOST:PORT of the gRPC API")
    parent.add_argument("--token", default=argparse.SUPPRESS, help="API token")
    return parent


def _command(
    group: Any,
    name: str,
    handler: Handler,
    help_text: str,
    parent: argparse.ArgumentParser,
    *,
    api: Api = Api.ORCHESTRATOR,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, parents=[parent])
    parser.set_defaults(handler=remote(handler, api))
    return parser


def add_remote_commands(commands: Any) -> None:
    parent = connection_options()
    scenario = commands.add_parser("scenario", help="manage scenarios on a server")
    sub = scenario.add_subparsers(dest="scenario_command", required=True)
    _command(sub, "apply", scenario_apply, "create, or store a new version", parent).add_argument(
        "file"
    )
    _command(sub, "list", scenario_list, "list scenarios", parent).add_argument(
        "--name", help="only names containing this"
    )
    get = _command(sub, "get", scenario_get, "show a scenario with its document", parent)
    get.add_argument("id")
    get.add_argument("--version", type=int, default=0, help="a version (default: the latest)")
    _command(sub, "activate", scenario_activate, "turn triggers on", parent).add_argument("id")
    _command(sub, "deactivate", scenario_deactivate, "turn triggers off", parent).add_argument("id")


def add_remote_run_commands(commands: Any) -> None:
    """`run start|get|list|cancel|logs` (main picks these over the local `run FILE`)."""
    parent = connection_options()
    run = commands.add_parser("run", help="start and inspect runs on a server")
    sub = run.add_subparsers(dest="run_command", required=True)
    start = _command(sub, "start", run_start, "start a run on the server", parent)
    start.add_argument("scenario_id")
    start.add_argument("--input", help="the trigger bundle, a JSON object")
    start.add_argument("--wait", action="store_true", help="wait and print the finished run")
    start.add_argument("--timeout", type=float, default=DEFAULT_WAIT_SECONDS)
    _command(sub, "get", run_get, "show a run", parent).add_argument("run_id")
    listing = _command(sub, "list", run_list, "list runs, newest first", parent)
    listing.add_argument("--scenario", help="only runs of this scenario")
    listing.add_argument("--status", action="append", choices=STATUS_CHOICES)
    listing.add_argument(
        "--limit",
        type=_non_negative,
        default=DEFAULT_RUN_LIMIT,
        help=f"at most this many runs, newest first (default {DEFAULT_RUN_LIMIT}; 0: all)",
    )
    _command(sub, "cancel", run_cancel, "cancel a live run", parent).add_argument("run_id")
    # Execution history is the log service's: its own server in distributed mode.
    _command(
        sub, "logs", run_logs, "show a run's steps with their bundles", parent, api=Api.LOG
    ).add_argument("run_id")


def remote(handler: Handler, api: Api = Api.ORCHESTRATOR) -> Callable[[argparse.Namespace], int]:
    """`handler` with a client for `api`'s server (and the others it finds), and gRPC/config
    errors turned into exit codes."""

    def command(args: argparse.Namespace) -> int:
        try:
            config = resolve(getattr(args, "server", None), getattr(args, "token", None), api=api)
        except ConfigError as exc:
            return _local_error(str(exc))
        try:
            with ApiClient(config) as client:
                return handler(client, args)
        except ConfigError as exc:
            return _local_error(str(exc))
        except grpc.RpcError as exc:
            print_error(error_report(exc))
            return exit_code_for(exc)

    return command
