"""`scenarist`: validate, evaluate and run scenarios from the command line, and manage scenarios
and runs on a server (`scenario apply|list|get|activate|deactivate`, `run start|get|list|cancel|
logs`; the server and token come from --server/--token, SCENARIST_SERVER/SCENARIST_TOKEN or
.scenarist/local.env).

Exit codes: 0 success, 1 the run failed (or a server error), 2 invalid input (bad file, template,
JSON, or a request the server refused as invalid).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from scenarist_engine.errors import ExpressionError, ScenarioValidationError, ScenaristError
from scenarist_engine.iml import EvalContext, evaluate_template
from scenarist_engine.iml.values import to_json_compatible
from scenarist_engine.model.loading import load_scenario_file
from scenarist_engine.model.validate import validate_or_raise
from scenarist_engine.modules import BUILTIN_KINDS
from scenarist_engine.runner import run_scenario

from scenarist_cli.commands_remote import (
    RUN_VERBS,
    add_remote_commands,
    add_remote_run_commands,
    connection_options,
)
from scenarist_cli.commands_schedule import add_schedule_commands
from scenarist_cli.commands_webhook import add_webhook_commands

EXIT_OK, EXIT_RUN_FAILED, EXIT_INVALID = 0, 1, 2


def _print_json(value: Any) -> None:
    indent = 2 if sys.stdout.isatty() else None
    print(json.dumps(to_json_compatible(value), indent=indent, ensure_ascii=False))


def _fail(message: str, issues: list[str] | None = None) -> int:
    print(
        json.dumps({"error": message, "issues": issues or []}, ensure_ascii=False), file=sys.stderr
    )
    return EXIT_INVALID


def _json_argument(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenaristError(f"{what} is not valid JSON: {exc}") from exc


def _load(path: str) -> Any:
    return validate_or_raise(load_scenario_file(path), known_modules=set(BUILTIN_KINDS))


def cmd_validate(args: argparse.Namespace) -> int:
    _load(args.file)
    _print_json({"valid": True, "file": args.file})
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    data = _json_argument(args.data, "--data") or {}
    if not isinstance(data, dict):
        raise ScenaristError("--data must be a JSON object of module id -> bundle")
    try:
        bundles = {int(key): value for key, value in data.items()}
    except ValueError as exc:
        raise ScenaristError("--data keys must be module ids (integers)") from exc
    _print_json(evaluate_template(args.template, EvalContext(bundles=bundles)))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args.file)
    trigger = _json_argument(args.trigger, "--trigger")
    run = run_scenario(scenario, trigger)
    result = run.result()
    _print_json(result)
    return EXIT_RUN_FAILED if result["status"] == "error" else EXIT_OK


def cmd_standalone(args: argparse.Namespace) -> int:
    from scenarist_cli.standalone import run_standalone  # noqa: PLC0415 - loads every service

    return run_standalone(args.http_port, args.grpc_port)


def build_parser(*, remote_run: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scenarist",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[connection_options()],
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("file")
    validate.set_defaults(handler=cmd_validate)
    evaluate = commands.add_parser("eval", help="evaluate an IML template")
    evaluate.add_argument("template")
    evaluate.add_argument("--data", help='module outputs, e.g. {"1": {"name": "Ada"}}')
    evaluate.set_defaults(handler=cmd_eval)
    add_remote_commands(commands)
    add_webhook_commands(commands)
    add_schedule_commands(commands)
    standalone = commands.add_parser(
        "standalone", help="run every service in this process (what `make run` starts)"
    )
    standalone.add_argument("--http-port", type=int, default=8080)
    standalone.add_argument("--grpc-port", type=int, default=50051)
    standalone.set_defaults(handler=cmd_standalone)
    if remote_run:
        add_remote_run_commands(commands)
        return parser
    run = commands.add_parser(
        "run",
        help="run a scenario file in this process (or: run start|get|list|cancel|logs)",
    )
    run.add_argument("file")
    run.add_argument("--trigger", help="trigger bundle(s) as JSON")
    run.set_defaults(handler=cmd_run)
    return parser


def _is_remote_run(argv: Sequence[str]) -> bool:
    """`run <verb> ...` manages runs on a server; `run FILE` runs a file in-process."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        # --server/--token take a value unless written as --server=...
        index += 1 if "=" in argv[index] or argv[index] in ("-h", "--help") else 2
    command = argv[index : index + 2]
    return len(command) == 2 and command[0] == "run" and command[1] in RUN_VERBS


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(remote_run=_is_remote_run(arguments)).parse_args(arguments)
    try:
        code: int = args.handler(args)
    except ScenarioValidationError as exc:
        return _fail("invalid scenario", [issue.render() for issue in exc.issues])
    except ExpressionError as exc:
        return _fail(str(exc))
    except (ScenaristError, OSError) as exc:
        return _fail(str(exc))
    return code


if __name__ == "__main__":
    sys.exit(main())
