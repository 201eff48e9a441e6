"""Helpers for the infra smoke tests: paths, bounded subprocess calls, the Infra record.

The session fixture (conftest.py) tells how servers are reused or started.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
INFRA = DEPLOY / "infra.sh"
SERVICES = ("postgres", "redis", "kafka")


def run(
    *args: str | Path, timeout: float, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with a bound on its time; never raises on a non-zero exit."""
    return subprocess.run(
        [str(a) for a in args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def must(*args: str | Path, timeout: float, stdin: str | None = None) -> str:
    """Run a command and return its stdout; fail the test with its output if it fails."""
    proc = run(*args, timeout=timeout, stdin=stdin)
    if proc.returncode != 0:
        pytest.fail(
            f"`{shlex.join(str(a) for a in args)}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    postgres_dsn: str
    redis_url: str
    started: tuple[str, ...]
