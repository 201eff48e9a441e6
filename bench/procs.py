"""Processes the benchmark starts, and the guarantee that it stops every one of them.

Each child runs in its own session (process group), so stopping it stops whatever it spawned
(n8n's task runner, a shell's children). `Reaper` is both a context manager and an atexit /
SIGTERM hook, so an interrupted run still leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Reaper:
    """Owns started processes and cleanup callbacks; runs them in reverse order on exit."""

    def __init__(self) -> None:
        self._cleanups: list[tuple[str, Callable[[], object]]] = []
        self._done = False

    def __enter__(self) -> Reaper:
        atexit.register(self.close)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log(f"signal {signum}: stopping everything the benchmark started")
        self.close()
        sys.exit(128 + signum)

    def defer(self, label: str, cleanup: Callable[[], object]) -> None:
        self._cleanups.append((label, cleanup))

    def forget(self, label: str) -> None:
        self._cleanups = [(name, fn) for name, fn in self._cleanups if name != label]

    def close(self) -> None:
        while self._cleanups:
            label, cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception as exc:
                log(f"cleanup {label} failed: {exc}")


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    cwd: Path | None = None,
    stdout_pipe: bool = False,
) -> subprocess.Popen[bytes]:
    out: IO[bytes] | int
    if stdout_pipe:
        out = subprocess.PIPE
    elif log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(log_path, "ab")  # noqa: SIM115 — the child owns it for its lifetime
    else:
        out = subprocess.DEVNULL
    return subprocess.Popen(  # noqa: S603 — fixed argv, no shell
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT if log_path is not None and not stdout_pipe else None,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen[bytes], name: str, timeout_s: float = 20.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it is still there."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log(f"{name} ignored SIGTERM for {timeout_s:.0f} s: SIGKILL")
    # Children may outlive the leader (a task runner): kill whatever is left in the group.
    _signal_group(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=10)
    _wait_group_gone(process.pid, name)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_group_gone(pgid: int, name: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _group_members(pgid):
            return
        time.sleep(0.05)
    log(f"{name}: processes of group {pgid} still present: {_group_members(pgid)}")


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) == pgid:
                members.append(int(entry))
        except (ProcessLookupError, PermissionError):
            continue
    return members


def wait_for(check: Callable[[], bool], what: str, timeout_s: float, every_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def read_ready_port(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> int:
    """The `ready PORT` line a bench stub prints once listening."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode().strip()
        if line.startswith("ready "):
            return int(line.split()[1])
        if process.poll() is not None:
            break
    raise RuntimeError("stub server did not report ready")


def run_checked(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout_s: float = 120.0,
    cwd: Path | None = None,
) -> str:
    result = subprocess.run(  # noqa: S603 — fixed argv, no shell
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... exited {result.returncode}: "
            f"{result.stderr.strip()[-2000:] or result.stdout.strip()[-2000:]}"
        )
    return result.stdout
