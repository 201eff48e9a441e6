"""MariaDB for the MySQL app: opt-in infrastructure (deploy/mysql/mysql.sh), started with
``infra.sh up mysql`` when it is not running and stopped again after (unless
SCENARIST_MYSQL_URL names a server to use), as tests/integration/apps/test_mysql.py does."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import pytest

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
INFRA, MYSQL = DEPLOY / "infra.sh", DEPLOY / "mysql" / "mysql.sh"


def _run(*command: Path | str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    args = [str(part) for part in command]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


@contextmanager
def mysql_server() -> Iterator[SplitResult]:
    if url := os.environ.get("SCENARIST_MYSQL_URL"):
        yield urlsplit(url)
        return
    started = _run(MYSQL, "status").returncode != 0
    if started:
        up = _run(INFRA, "up", "mysql", timeout=600)
        if up.returncode != 0:
            pytest.fail(f"infra.sh up mysql failed: {up.stderr[-2000:]}")
    try:
        yield urlsplit(_run(MYSQL, "url").stdout.strip())
    finally:
        if started:
            _run(INFRA, "down", "mysql", timeout=120)
