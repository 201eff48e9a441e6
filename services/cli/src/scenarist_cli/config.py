"""Where the CLI finds the server and its token: flags, then the environment, then
`.scenarist/local.env` in the working directory or the nearest parent that has one (written by
`make run` / `make up`), like `kubectl` finds its config without flags on a developer machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SERVER_KEY = "SCENARIST_SERVER"
TOKEN_KEY = "SCENARIST_TOKEN"  # noqa: S105 - a variable name, not a secret
LOCAL_ENV = Path(".scenarist") / "local.env"


class ConfigError(ValueError):
    """No server or no token could be found; says where the CLI looked."""


@dataclass(frozen=True)
class ClientConfig:
    server: str
    token: str


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
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ClientConfig:
    """Each setting from the first source that has it: argument, environment, local.env."""
    env = os.environ if environ is None else environ
    server = server or env.get(SERVER_KEY) or None
    token = token or env.get(TOKEN_KEY) or None
    local: Path | None = None
    if server is None or token is None:
        local = find_local_env(cwd or Path.cwd())
        if local is not None:
            values = parse_env_file(local.read_text(encoding="utf-8"))
            server = server or values.get(SERVER_KEY) or None
            token = token or values.get(TOKEN_KEY) or None
    missing = [
        name
        for name, value in (("server (--server / SCENARIST_SERVER)", server), ("token", token))
        if not value
    ]
    if missing or server is None or token is None:
        where = f"{local}" if local is not None else f"no {LOCAL_ENV} in this directory or above"
        raise ConfigError(
            f"no {' and no '.join(missing)}: pass --server/--token, set {SERVER_KEY}/{TOKEN_KEY},"
            f" or run `make run` / `make up` to write {LOCAL_ENV} ({where})"
        )
    return ClientConfig(server=server, token=token)
