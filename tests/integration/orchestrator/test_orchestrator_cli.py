"""The `scenarist` CLI against the hosted orchestrator and executor, through `main([...])`.

The CLI's client blocks, so each command runs in a thread while the server keeps this loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from orchestrator_support import GREETING, INVALID, Stack
from scenarist_cli.main import main
from scenarist_storage.models import Role

pytestmark = pytest.mark.integration


class Cli:
    def __init__(self, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
        self._connection = ["--server", stack.address, "--token", stack.acme.tokens[Role.OWNER]]
        self._capsys = capsys

    async def __call__(self, *argv: str) -> tuple[int, Any, Any]:
        """(exit code, stdout JSON or None, stderr JSON or None)."""
        self._capsys.readouterr()
        code = await asyncio.to_thread(main, [*self._connection, *argv])
        captured = self._capsys.readouterr()
        out = json.loads(captured.out) if captured.out.strip() else None
        err = json.loads(captured.err) if captured.err.strip() else None
        return code, out, err


async def test_apply_run_and_inspect_through_the_cli(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(stack, capsys)
    file = tmp_path / "greeting.yaml"
    file.write_text(GREETING, encoding="utf-8")

    code, applied, _ = await cli("scenario", "apply", str(file))
    assert code == 0 and (applied["version"], applied["action"]) == (1, "created")
    code, again, _ = await cli("scenario", "apply", str(file))
    assert code == 0 and (again["id"], again["version"]) == (applied["id"], 2)

    code, listed, _ = await cli("scenario", "list")
    assert [s["id"] for s in listed["scenarios"]] == [applied["id"]]
    code, shown, _ = await cli("scenario", "get", applied["id"])
    assert shown["document"]["name"] == "Greeting" and shown["version"] == 2
    code, active, _ = await cli("scenario", "activate", applied["id"])
    assert code == 0 and active["active"] is True
    code, inactive, _ = await cli("scenario", "deactivate", applied["id"])
    assert code == 0 and "active" not in inactive  # false is the default, left out

    code, run, _ = await cli("run", "start", applied["id"], "--input", '{"name": "Ada"}', "--wait")
    assert code == 0
    assert (
        run["status"] == "RUN_STATUS_SUCCESS" and run["trigger_source"] == "TRIGGER_SOURCE_MANUAL"
    )
    assert run["response"]["body"] == "Hello Ada"
    code, fetched, _ = await cli("run", "get", run["id"])
    assert fetched["id"] == run["id"] and fetched["operations"] == 3
    code, runs, _ = await cli("run", "list", "--scenario", applied["id"], "--status", "success")
    assert [r["id"] for r in runs["runs"]] == [run["id"]]

    code, queued, _ = await cli("run", "start", applied["id"])
    assert code == 0 and queued["status"] == "RUN_STATUS_QUEUED"
    await stack.finished_run(stack.acme, queued["id"])
    code, newest, _ = await cli("run", "list", "--scenario", applied["id"], "--limit", "1")
    assert [r["id"] for r in newest["runs"]] == [queued["id"]]  # newest first, one
    code, every, _ = await cli("run", "list", "--scenario", applied["id"], "--limit", "0")
    assert {r["id"] for r in every["runs"]} == {run["id"], queued["id"]}

    # The log service is not hosted here: its error is reported, not a traceback.
    code, _, error = await cli("run", "logs", run["id"])
    assert code == 1 and error["code"] == "UNIMPLEMENTED"


async def test_cli_errors_carry_code_message_and_field_violations(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(stack, capsys)
    broken = tmp_path / "broken.yaml"
    broken.write_text(INVALID, encoding="utf-8")
    code, out, error = await cli("scenario", "apply", str(broken))
    assert code == 2 and out is None
    assert error["code"] == "INVALID_ARGUMENT"
    assert "document.flow[2].module" in {v["field"] for v in error["violations"]}

    code, _, error = await cli("scenario", "get", "00000000-0000-0000-0000-000000000000")
    assert code == 1 and error["code"] == "NOT_FOUND"
    code, _, error = await cli("run", "start", "not-a-uuid")
    assert code == 2 and error["violations"] == [
        {"field": "scenario_id", "description": "must be a UUID"}
    ]
    code, _, error = await cli("--token", "sct_wrong", "scenario", "list")
    assert code == 1 and error["code"] == "UNAUTHENTICATED"
