"""The studio in Debian's Chromium against the whole platform in one process.

A new user signs in and, by clicking and typing, builds webhook → set variables → router with
two filtered routes → webhook responses; runs it once with a sample payload and checks every
module's bundles; activates it, calls the webhook over HTTP and finds the run in the history.
A viewer cannot edit; a stored-XSS payload renders as text. Then extras.mjs: a schedule, a
connection whose secret is never shown again, an incomplete execution retried from the history
(Run once followed over Server-Sent Events), and a webhook's data structure determined from a
received request. readme.mjs: the README's example scenario built the way a newcomer would, run
once with the last request its webhook received. viewer.mjs: a viewer sees schedules, webhooks,
connections, the last received request and incomplete executions read-only, and the API refuses
each of their writes. Screenshots land in tests/e2e/studio/artifacts/ (git-ignored). The browser
parts are Node scripts (playwright-core with executablePath /usr/bin/chromium: nothing is
downloaded).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scenarist_storage.models import Role
from scenarist_studio.context import Studio
from stack import start_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures"))  # the fakes package
from fakes.github import TOKEN as GITHUB_TOKEN
from fakes.github import server as github_fake

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HERE = Path(__file__).parent
WEB = HERE.parents[2] / "services" / "studio" / "web"
CHROMIUM = Path(os.environ.get("SCENARIST_CHROMIUM", "/usr/bin/chromium"))
VIEWER_EMAIL = "viewer@example.com"
VIEWER_PASSWORD = "viewer-password-1"
FLOW_TIMEOUT = 400.0


def _prerequisites() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node.js 20 drives playwright-core)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    built = subprocess.run(
        [str(WEB / "build.sh")], capture_output=True, text=True, timeout=600, check=False
    )
    if built.returncode != 0:
        pytest.fail(f"web build failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")


async def _node(flow: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / flow),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), FLOW_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"the browser flow {flow} did not finish in time")
    assert process.returncode == 0, output.decode(errors="replace")


async def test_build_run_activate_and_inspect_in_a_browser(
    database_dsn: str, tmp_path: Path
) -> None:
    _prerequisites()
    # "Test connection" calls GitHub for real: a local fake stands in, reachable because the
    # operator allow list opens loopback for this stack.
    os.environ["SCENARIST_CONNECTOR_ALLOW"] = "127.0.0.1/32"
    fake_github = github_fake().__enter__()
    stack = await start_stack(database_dsn, tmp_path)
    try:
        assert stack.password is not None, "a fresh database gives a fresh first user"
        studio = stack.hosted.host.shared["studio"]
        assert isinstance(studio, Studio) and stack.owner_token is not None
        token = await studio.accounts.mint_service_token(
            stack.owner_token, Role.VIEWER, VIEWER_EMAIL
        )
        owner = await studio.accounts.store.user_by_email(stack.email)
        assert owner is not None
        await studio.accounts.create_user(
            VIEWER_EMAIL, VIEWER_PASSWORD, Role.VIEWER, owner.org_id, token
        )
        artifacts = HERE / "artifacts"
        shutil.rmtree(artifacts, ignore_errors=True)  # no stale screenshot may pass for new
        env = {
            **os.environ,
            "STUDIO_URL": stack.url,
            "OWNER_EMAIL": stack.email,
            "OWNER_PASSWORD": stack.password,
            "VIEWER_EMAIL": VIEWER_EMAIL,
            "VIEWER_PASSWORD": VIEWER_PASSWORD,
            "ARTIFACTS": str(artifacts),
            "WEB_DIR": str(WEB),
            "CHROMIUM": str(CHROMIUM),
            "FAKE_GITHUB_URL": fake_github.url,
            "FAKE_GITHUB_TOKEN": GITHUB_TOKEN,
        }
        for flow in ("flow.mjs", "extras.mjs", "readme.mjs", "viewer.mjs"):
            await _node(flow, env)
        shots = ("canvas.png", "mapping-panel.png", "run-inspector.png", "incomplete.png")
        more = ("schedules.png", "connection.png", "data-structure.png", "readme-5-run.png")
        for shot in (*shots, *more, "viewer-schedules.png", "viewer-run-once.png"):
            assert (artifacts / shot).stat().st_size > 0
    finally:
        await stack.lifecycle.shutdown()
        fake_github.__exit__(None, None, None)
        os.environ.pop("SCENARIST_CONNECTOR_ALLOW", None)
