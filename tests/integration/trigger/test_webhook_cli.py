"""`scenarist webhook ...` against the hosted trigger service, then a signed call to the URL."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

import pytest
from scenarist_cli.commands_webhook import add_webhook_commands
from scenarist_trigger.credentials import sign, signing_key
from trigger_support import TriggerStack, assert_problem

pytestmark = pytest.mark.integration


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scenarist")
    add_webhook_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


async def test_cli_create_list_rotate_delete(
    stack: TriggerStack, capsys: pytest.CaptureFixture[str]
) -> None:
    token = stack.auth[0][1].removeprefix("Bearer ")
    conn = ["--server", f"127.0.0.1:{stack.hosted.grpc_port}", "--token", token]
    conn += ["--public-url", stack.hosted.http_url]
    scenario = str(uuid.uuid4())
    argv = ["webhook", "create", "--scenario", scenario, "--auth", "standard-webhooks", *conn]
    assert await asyncio.to_thread(_run, argv) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["url"].startswith(stack.hosted.http_url.rstrip("/") + "/hooks/")
    assert created["scenario_id"] == scenario and created["auth"] == "standard-webhooks"
    key = signing_key(created["secret"]["signing_secret"])

    body, stamp = b'{"hello": "world"}', int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_cli",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(key, "msg_cli", stamp, body),
    }
    path = created["url_path"]
    assert (await stack.call(path, body, headers)).status == 202
    unsigned = await stack.call(path, body, {"Content-Type": "application/json"})
    assert "webhook-signature" in assert_problem(unsigned, 401)["detail"]

    assert await asyncio.to_thread(_run, ["webhook", "list", *conn]) == 0
    listed = json.loads(capsys.readouterr().out)["webhooks"]
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    assert await asyncio.to_thread(_run, ["webhook", "rotate", created["id"], *conn]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["url"] != created["url"] and "secret" not in rotated
    assert await asyncio.to_thread(_run, ["webhook", "delete", created["id"], *conn]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(_run, ["webhook", "get", created["id"], *conn]) == 1
    assert "NOT_FOUND" in capsys.readouterr().err
