"""`scenarist standalone`: every service in this process (in-process bus, real Postgres).

This is what `make run` starts. It bootstraps an organization and an owner token, loads the demo
scenario with a webhook, writes `.scenarist/local.env` for the CLI and prints a curl command that
triggers the demo and a command that shows its runs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from scenarist.identity.v1 import organization_service_pb2, organization_service_pb2_grpc
from scenarist.scenario.v1 import scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import webhook_pb2, webhook_service_pb2, webhook_service_pb2_grpc
from scenarist_runtime.gc_tuning import settle_gc
from scenarist_runtime.host import available_services, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.main import STOP_SIGNALS
from scenarist_runtime.malloc import pin_mmap_threshold
from scenarist_runtime.settings import ServiceSettings, load_settings

from scenarist_cli.config import LOCAL_ENV, Api, parse_env_file

log = logging.getLogger("scenarist.standalone")

DEMO_FILE = Path("examples") / "order-router.yaml"
DEMO_PAYLOAD = {
    "order_id": 123,
    "amount": 142.5,
    "email": "A@Example.com",
    "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 1}],
}


@dataclass
class Demo:
    scenario_id: str
    webhook_url: str


def _local_env(root: Path) -> dict[str, str]:
    path = root / LOCAL_ENV
    return parse_env_file(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_local_env(root: Path, values: dict[str, str]) -> Path:
    path = root / LOCAL_ENV
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by `scenarist standalone` (make run). Read by the scenarist CLI."]
    lines += [f"{key}={value}" for key, value in sorted(values.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def route_every_api_to(values: dict[str, str], target: str) -> None:
    """Point the CLI at one server for every API (standalone serves them all on one port),
    dropping per-API routes a `make up` left in local.env: they name services not running."""
    for api in Api:
        values.pop(api.value, None)
    values[Api.ORCHESTRATOR.value] = target


SECRET_KEYS = (
    "SCENARIST_SECRETS_KEY",
    "SCENARIST_WEBHOOK_SECRET_KEY",
    "SCENARIST_STUDIO__SECRET_KEY",
)


def _ensure_secret_keys(values: dict[str, str]) -> None:
    # Connection and webhook secrets are encrypted with these keys; they live with the local
    # install (git-ignored .scenarist/local.env), generated on the first start.
    for key in SECRET_KEYS:
        if key not in values:
            values[key] = base64.b64encode(secrets.token_bytes(32)).decode()
        os.environ.setdefault(key, values[key])


async def _token_works(channel: grpc.aio.Channel, token: str) -> bool:
    stub = organization_service_pb2_grpc.OrganizationServiceStub(channel)
    try:
        await stub.GetOrganization(
            organization_service_pb2.GetOrganizationRequest(),
            metadata=(("authorization", f"Bearer {token}"),),
        )
    except grpc.aio.AioRpcError:
        return False
    return True


async def _ensure_token(
    shared: dict[str, Any], channel: grpc.aio.Channel, known: str | None
) -> str:
    if known and await _token_works(channel, known):
        return known
    bootstrap = shared["bootstrap_admin"]
    _, token = await bootstrap(mint=True)
    assert token is not None
    return str(token)


async def _ensure_demo(
    channel: grpc.aio.Channel, token: str, values: dict[str, str], public_url: str
) -> Demo:
    auth = (("authorization", f"Bearer {token}"),)
    scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(channel)
    document = DEMO_FILE.read_text(encoding="utf-8")
    known_id = values.get("SCENARIST_DEMO_SCENARIO_ID")
    known_url = values.get("SCENARIST_DEMO_WEBHOOK_URL")
    if known_id and known_url:
        try:
            await scenarios.GetScenario(
                scenario_service_pb2.GetScenarioRequest(scenario_id=known_id), metadata=auth
            )
            return Demo(known_id, known_url)
        except grpc.aio.AioRpcError:
            pass  # the database was reset: create the demo again
    created = await scenarios.CreateScenario(
        scenario_service_pb2.CreateScenarioRequest(document=document), metadata=auth
    )
    scenario_id = created.scenario.id
    await scenarios.ActivateScenario(
        scenario_service_pb2.ActivateScenarioRequest(scenario_id=scenario_id), metadata=auth
    )
    webhooks = webhook_service_pb2_grpc.WebhookServiceStub(channel)
    hook = await webhooks.CreateWebhook(
        webhook_service_pb2.CreateWebhookRequest(
            scenario_id=scenario_id,
            name="Order router demo",
            auth=webhook_pb2.WEBHOOK_AUTH_NONE,
        ),
        metadata=auth,
    )
    return Demo(scenario_id, public_url.rstrip("/") + hook.webhook.url_path)


async def _ensure_studio_user(shared: dict[str, Any], token: str, values: dict[str, str]) -> str:
    ensure = shared.get("ensure_first_user")
    if ensure is None:
        return ""
    email, password = await ensure(token)
    if password is not None:
        # Shown on every start from the git-ignored local.env, so a newcomer can always sign in.
        values["SCENARIST_STUDIO_EMAIL"], values["SCENARIST_STUDIO_PASSWORD"] = email, password
    password = values.get("SCENARIST_STUDIO_PASSWORD", "(set when the user was created)")
    return (
        f"Studio (visual builder): {shared.get('http_url', '')}  sign in as {email} / {password}\n"
    )


def _banner(demo: Demo, settings: ServiceSettings, grpc_port: int, http_url: str) -> str:
    payload = json.dumps(DEMO_PAYLOAD)
    return "\n".join(
        [
            "",
            "Scenarist is running (standalone: every service in this process).",
            f"  webhooks + health: {http_url}      gRPC API: 127.0.0.1:{grpc_port}",
            f"  CLI settings and token: {LOCAL_ENV}",
            "",
            "Trigger the demo scenario (examples/order-router.yaml):",
            f"  curl -sS -X POST '{demo.webhook_url}' \\",
            f"       -H 'content-type: application/json' -d '{payload}'",
            "",
            "Then look at its runs:",
            f"  .venv/bin/scenarist run list --scenario {demo.scenario_id}",
            "  .venv/bin/scenarist run logs <run id>",
            "",
            "Stop with Ctrl-C.",
            "",
        ]
    )


def _public_url(values: dict[str, str], http_port: int) -> str | None:
    """The base of webhook URLs: SCENARIST_PUBLIC_URL (environment, then local.env), unless the
    stored one is this machine's loopback address from a run on another port."""
    if found := os.environ.get("SCENARIST_PUBLIC_URL"):
        return found
    local = f"http://127.0.0.1:{http_port}" if http_port else None
    stored = values.get("SCENARIST_PUBLIC_URL")
    if stored and not (local and stored.startswith("http://127.0.0.1:")):
        return stored
    return local


async def serve_standalone(root: Path, http_port: int, grpc_port: int) -> int:
    values = _local_env(root)
    _ensure_secret_keys(values)
    if configured := _public_url(values, http_port):
        # The trigger reads it at start: the webhook URLs it returns (shown by the studio) must
        # name the port this process listens on, not the default 8080.
        os.environ["SCENARIST_PUBLIC_URL"] = configured
    settings = load_settings(
        ServiceSettings,
        overrides={
            "service_name": "scenarist-standalone",
            "mode": "standalone",
            "http_port": http_port,
            "grpc_port": grpc_port,
        },
    )
    lifecycle = Lifecycle(settings)
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, lifecycle.on_signal, sig.name)
    names = [name for name in available_services() if name != "studio"] + (
        ["studio"] if "studio" in available_services() else []
    )
    try:
        hosted = await start_host(names, settings, lifecycle)
        hosted.host.shared["http_url"] = hosted.http_url
        target = f"127.0.0.1:{hosted.grpc_port}"
        public_url = configured or hosted.http_url
        async with grpc.aio.insecure_channel(target) as channel:
            token = await _ensure_token(hosted.host.shared, channel, values.get("SCENARIST_TOKEN"))
            demo = await _ensure_demo(channel, token, values, public_url)
        studio = await _ensure_studio_user(hosted.host.shared, token, values)
        route_every_api_to(values, target)
        values.update(
            SCENARIST_TOKEN=token,
            SCENARIST_PUBLIC_URL=public_url,
            SCENARIST_DEMO_SCENARIO_ID=demo.scenario_id,
            SCENARIST_DEMO_WEBHOOK_URL=demo.webhook_url,
        )
        _write_local_env(root, values)
        banner = _banner(demo, settings, hosted.grpc_port, hosted.http_url)
        # The studio line goes before the closing "Stop with Ctrl-C." line.
        head, _, tail = banner.rpartition("Stop with Ctrl-C.")
        print(f"{head}{studio}\nStop with Ctrl-C.{tail}" if studio else banner, flush=True)
        settle_gc()
        await lifecycle.stopping.wait()
    except Exception:
        log.exception("standalone start failed")
        lifecycle.request_stop("start failed")
        await lifecycle.shutdown()
        return 1
    drained = await lifecycle.shutdown()
    return 0 if drained else 1


def run_standalone(http_port: int, grpc_port: int) -> int:
    from scenarist_observability.logging import configure_logging  # noqa: PLC0415

    configure_logging("scenarist-standalone", os.environ.get("SCENARIST_LOG_LEVEL", "WARNING"))
    pin_mmap_threshold()
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(serve_standalone(Path.cwd(), http_port, grpc_port))
    except KeyboardInterrupt:
        return 0
    finally:
        sys.stdout.flush()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed, like the distributed services: every service shares this loop."""
    try:
        import uvloop  # noqa: PLC0415 - optional accelerator
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
