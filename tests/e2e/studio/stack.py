"""The whole platform in one process, as `make run` hosts it: every service including the
studio, standalone mode (in-process bus), real Postgres; the first studio user created the way
the standalone launcher does it.

`python tests/e2e/studio/stack.py` serves it until Ctrl-C (for trying the studio by hand);
the e2e test imports `start_stack`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from scenarist_orchestrator.bootstrap import ensure_bootstrap_admin
from scenarist_runtime.host import Hosted, available_services, start_host
from scenarist_runtime.lifecycle import Lifecycle
from scenarist_runtime.settings import ServiceSettings
from scenarist_storage.pg import PgIdentityStore
from scenarist_studio.bootstrap import ensure_first_user
from scenarist_studio.settings import StudioOptions

WANTED = ("orchestrator", "executor", "trigger", "log", "connector_gateway", "studio")


@dataclass
class Stack:
    hosted: Hosted
    lifecycle: Lifecycle
    email: str
    password: str | None
    owner_token: str | None
    missing: tuple[str, ...]

    @property
    def url(self) -> str:
        return self.hosted.http_url


def _keys_for_tests() -> None:
    """Throwaway encryption keys for the gateway and the trigger unless the caller set them."""
    for name in ("SCENARIST_SECRETS_KEY", "SCENARIST_WEBHOOK_SECRET_KEY"):
        os.environ.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())


async def start_stack(dsn: str, key_dir: Path) -> Stack:
    _keys_for_tests()
    installed = available_services()
    names = [n for n in WANTED if n in installed]
    missing = tuple(n for n in WANTED if n not in installed)
    settings = ServiceSettings(
        service_name="e2e",
        mode="standalone",
        postgres_dsn=SecretStr(dsn),
        http_port=0,
        grpc_port=0,
    )
    lifecycle = Lifecycle(settings)
    shared = {"studio_options": StudioOptions(cookie_secure=False, key_dir=key_dir)}
    hosted = await start_host(names, settings, lifecycle, shared=shared)
    _, owner_token = await ensure_bootstrap_admin(PgIdentityStore(hosted.host.pool), mint=True)
    email, password = await ensure_first_user(hosted.host, owner_token)
    # The HTTP port is ephemeral here, so webhook URLs are only known now.
    studio = hosted.host.shared["studio"]
    studio.options = studio.options.model_copy(update={"hooks_base_url": hosted.http_url})
    return Stack(hosted, lifecycle, email, password, owner_token, missing)


async def _serve(dsn: str) -> None:
    stack = await start_stack(dsn, Path(".scenarist"))
    print(f"studio: {stack.url}/  user {stack.email} password {stack.password}", flush=True)
    try:
        await stack.lifecycle.stopping.wait()
    finally:
        await stack.lifecycle.shutdown()


if __name__ == "__main__":
    asyncio.run(_serve(os.environ.get("SCENARIST_POSTGRES_DSN") or sys.argv[1]))
