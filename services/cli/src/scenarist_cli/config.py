"""Where the CLI finds the servers and its token: flags, then the environment, then
`.scenarist/local.env` in the working directory or the nearest parent that has one (written by
`make run` / `make up`), like `kubectl` finds its config without flags on a developer machine.

Each API has its own server: in standalone mode one port serves them all (SCENARIST_SERVER), in
distributed mode (`make up`) every service listens on its own port and local.env also names
SCENARIST_TRIGGER_SERVER (webhooks, schedules), SCENARIST_LOG_SERVER (execution logs) and
SCENARIST_GATEWAY_SERVER (connections, data stores). An API without its own entry falls back to
SCENARIST_SERVER of the same source; a --server flag names the one server for every API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

SERVER_KEY = "SCENARIST_SERVER"
TOKEN_KEY = "SCENARIST_TOKEN"  # noqa: S105 - a variable name, not a secret
LOCAL_ENV = Path(".scenarist") / "local.env"


class ConfigError(ValueError):
    """No server or no token could be found; says where the CLI looked."""


class Api(Enum):
    """A public gRPC API, by the variable naming the server that serves it."""

    ORCHESTRATOR = SERVER_KEY  # scenarios, runs, organizations, API tokens
    TRIGGER = "SCENARIST_TRIGGER_SERVER"  # webhooks, schedules
    LOG = "SCENARIST_LOG_SERVER"  # execution logs
    GATEWAY = "SCENARIST_GATEWAY_SERVER"  # connections, data stores, apps


@dataclass(frozen=True)
class ClientConfig:
    server: str  # the server of the API the command was resolved for
    token: str
    servers: Mapping[Api, str] = field(default_factory=dict)  # every API whose server was found

    def server_for(self, api: Api) -> str:
        found = self.servers.get(api)
        if found is None:
            raise ConfigError(f"no server for the {api.name.lower()} API: set {_server_keys(api)}")
        return found


def _server_keys(api: Api) -> str:
    return SERVER_KEY if api is Api.ORCHESTRATOR else f"{api.value} or {SERVER_KEY}"


def _server_in(values: Mapping[str, str], api: Api) -> str | None:
    """The API's own entry, else the common one, of one source (never mixing two sources: a
    SCENARIST_SERVER in the environment wins over every server of a local.env)."""
    return values.get(api.value) or values.get(SERVER_KEY) or None


def find_local_env(start: Path) -> Path | None:
    """`.scenarist/local.env` in `start` or the nearest parent that has one."""
    for directory in (start, *start.parents):
        candidate = directory / LOCAL_ENV
        if candidate.is_file():
            return candidate
    return None


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, `#` comments and an `export ` prefix are allowed, and a value
    may be wrapped in single or double quotes."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def resolve(
    server: str | None,
    token: str | None,
    *,
    api: Api = Api.ORCHESTRATOR,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ClientConfig:
    """Each setting from the first source that has it: argument, environment, local.env; the
    server of `api` and the token are required."""
    env = os.environ if environ is None else environ
    sources: list[Mapping[str, str]] = [env]
    token = token or env.get(TOKEN_KEY) or None
    local: Path | None = None
    if token is None or (server is None and not all(_server_in(env, a) for a in Api)):
        local = find_local_env(cwd or Path.cwd())
        if local is not None:
            sources.append(parse_env_file(local.read_text(encoding="utf-8")))
            token = token or sources[-1].get(TOKEN_KEY) or None
    servers = {a: found for a in Api if (found := server or _first_server(sources, a))}
    wanted = servers.get(api)
    missing = [
        name
        for name, value in ((f"server (--server / {_server_keys(api)})", wanted), ("token", token))
        if not value
    ]
    if missing or wanted is None or token is None:
        where = f"{local}" if local is not None else f"no {LOCAL_ENV} in this directory or above"
        raise ConfigError(
            f"no {' and no '.join(missing)}: pass --server/--token, set {SERVER_KEY}/{TOKEN_KEY},"
            f" or run `make run` / `make up` to write {LOCAL_ENV} ({where})"
        )
    return ClientConfig(server=wanted, token=token, servers=servers)


def _first_server(sources: list[Mapping[str, str]], api: Api) -> str | None:
    for values in sources:
        found = _server_in(values, api)
        if found:
            return found
    return None
