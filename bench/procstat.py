"""CPU seconds and peak RSS of process trees, read from /proc (Linux only).

A system under test is a set of root pids (n8n; the standalone process; every service plus
Kafka, Postgres and Redis). Children are found through the ppid column, so Postgres backends
and n8n task runners count too. CPU used by children that exited in between is picked up from
the parent's cutime/cstime.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    pid: int
    ppid: int
    cpu_seconds: float  # utime + stime of this process
    child_cpu_seconds: float  # cutime + cstime: children it has waited for
    name: str


def read_stat(pid: int) -> ProcSample | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            raw = stat.read().decode()
    except OSError:
        return None
    # The command name sits in parentheses and may itself contain spaces or ')'.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ProcSample(
        pid=pid,
        ppid=int(fields[1]),
        cpu_seconds=(utime + stime) / CLOCK_TICKS,
        child_cpu_seconds=(cutime + cstime) / CLOCK_TICKS,
        name=name,
    )


def peak_rss_bytes(pid: int) -> int:
    """VmHWM: the process's own high-water mark of resident memory."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages split between the processes that map them. Used
    for Postgres, whose every backend maps the same shared buffers (summing their RSS would
    count those once per backend)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            return raw.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def foreign_backend(sample: ProcSample, database: str | None) -> bool:
    """A Postgres backend serving another database than ours (the project's Postgres is
    shared with other users); its title reads `postgres: USER DATABASE HOST ...`."""
    if database is None or sample.name != "postgres":
        return False
    parts = cmdline(sample.pid).split()
    is_backend = (
        len(parts) >= 4
        and parts[0] == "postgres:"
        and (parts[3].startswith("[local]") or "(" in parts[3])
    )
    return is_backend and parts[2] != database


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def process_tree(roots: Iterable[int], database: str | None = None) -> dict[int, ProcSample]:
    """Every live process under `roots` (roots included), without Postgres backends of
    databases other than `database`."""
    samples = [s for s in map(read_stat, _all_pids()) if s is not None]
    children: dict[int, list[ProcSample]] = {}
    for sample in samples:
        children.setdefault(sample.ppid, []).append(sample)
    by_pid = {s.pid: s for s in samples}
    found: dict[int, ProcSample] = {}
    stack = [by_pid[pid] for pid in roots if pid in by_pid]
    while stack:
        sample = stack.pop()
        if sample.pid in found:
            continue
        found[sample.pid] = sample
        stack.extend(children.get(sample.pid, []))
    return {pid: s for pid, s in found.items() if not foreign_backend(s, database)}


@dataclass
class TreeMeter:
    """CPU used by a set of process trees between `start()` and `stop()`, and their peak RSS."""

    roots: list[int]
    database: str | None = None
    _before: dict[int, ProcSample] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    peak_rss: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        self._before = process_tree(self.roots, self.database)

    def stop(self) -> None:
        after = process_tree(self.roots, self.database)
        total = 0.0
        for pid, now in after.items():
            then = self._before.get(pid)
            base = (then.cpu_seconds + then.child_cpu_seconds) if then else 0.0
            total += now.cpu_seconds + now.child_cpu_seconds - base
        self.cpu_seconds = max(total, 0.0)
        self.peak_rss = peak_rss_by_name(after)


def peak_rss_by_name(tree: dict[int, ProcSample]) -> dict[str, int]:
    """Peak RSS per process, keyed `name[pid]` so several executors stay apart (Postgres:
    its proportional set size now, see `pss_bytes`)."""
    return {
        f"{s.name}[{pid}]": pss_bytes(pid) if s.name == "postgres" else peak_rss_bytes(pid)
        for pid, s in sorted(tree.items())
    }


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system
