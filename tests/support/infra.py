"""Real servers for the tests: Postgres, Redis and Kafka, and throwaway Postgres databases.

An address in the environment (SCENARIST_POSTGRES_DSN, SCENARIST_REDIS_URL,
SCENARIST_KAFKA_BOOTSTRAP: `make test` exports them for the infra scripts/with_test_infra.sh
started on ports of its own) is used as it is. Without one, the address `deploy/infra.sh env`
prints is used: a server already listening there (`make run`/`make up`, another test session) is
reused and left running; one that is not is started with `deploy/infra.sh up` and stopped again
when the caller is done, so a session stops only what it started.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "deploy" / "infra.sh"


@dataclass(frozen=True)
class Server:
    """One server deploy/infra.sh manages: its name there and the variable holding its address."""

    component: str
    variable: str
    up_timeout: float


POSTGRES = Server("postgres", "SCENARIST_POSTGRES_DSN", 300)
REDIS = Server("redis", "SCENARIST_REDIS_URL", 300)
# A cold Kafka start is ~10-30 s on 2 cores, plus a one-time jar fetch.
KAFKA = Server("kafka", "SCENARIST_KAFKA_BOOTSTRAP", 600)

# The `fresh_database` fixture: a label in, the DSN of a new database out.
FreshDatabase = Callable[[str], str]


class InfraUnavailableError(Exception):
    """The server could be neither found nor started; the message says why."""


def run(*args: str | Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command with a bound on its time; never raises on a non-zero exit."""
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )


def infra_env() -> dict[str, str]:
    """The variables `deploy/infra.sh env` exports (addresses only: it starts nothing)."""
    out = run(INFRA, "env", timeout=60)
    values: dict[str, str] = {}
    for line in out.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            values[key] = value
    return values


def listening(address: str) -> bool:
    """Whether something accepts connections at a DSN/URL or a bare HOST:PORT."""
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def running(server: Server) -> Iterator[str]:
    """The server's address while the block runs; raises InfraUnavailableError if it has none."""
    if found := os.environ.get(server.variable):
        yield found
        return
    if not INFRA.exists():
        raise InfraUnavailableError(f"set {server.variable} or provide {INFRA} (deploy scripts)")
    address = infra_env().get(server.variable)
    if not address:
        raise InfraUnavailableError(f"`{INFRA} env` printed no {server.variable}")
    # A port check, not `<server>.sh status`: Kafka's status runs a JVM, too slow on 2 cores.
    started_here = not listening(address)
    if started_here:
        up = run(INFRA, "up", server.component, timeout=server.up_timeout)
        if up.returncode != 0:
            raise InfraUnavailableError(
                f"deploy/infra.sh up {server.component} failed ({up.returncode}):\n"
                f"{up.stderr[-2000:]}"
            )
    try:
        yield address
    finally:
        if started_here:
            run(INFRA, "down", server.component, timeout=120)


def with_database(dsn: str, database: str) -> str:
    """The same server DSN (user, password, options) pointed at another database."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def new_database(server_dsn: str, label: str) -> Iterator[str]:
    """A database of its own (scn_<label>_<random>) while the block runs, dropped after, so test
    runs sharing one server never see each other's rows. Call it outside any running event loop
    (session fixtures are set up synchronously)."""
    name = f"scn_{label}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_dsn, f"CREATE DATABASE {name}"))
    try:
        yield with_database(server_dsn, name)
    finally:
        asyncio.run(_admin(server_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
