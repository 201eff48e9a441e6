"""n8n, installed and driven the way the peers reference notes describe (pinned 2.8.4, the xlsx
override, SQLite, telemetry and every phone-home feature off), on loopback only.

One fresh user folder per benchmark run: the workflows are imported and published into a
template folder once, and each configuration (executions saved / not saved) starts from its own
copy of it, so neither sees the other's execution history.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Reaper, log, run_checked, spawn, stop_group, wait_for

HERE = Path(__file__).resolve().parent
INSTALL_SCRIPT = HERE / "n8n_install.sh"
WORKFLOWS = {
    "w1": (HERE / "peers" / "n8n-w1-order.json", "PeerBench3Step01", "order"),
    "w3": (HERE / "peers" / "n8n-w3-steps40.json", "PeerBenchSteps40", "steps40"),
    "w3-base": (HERE / "peers" / "n8n-w3-steps0.json", "PeerBenchSteps00", "steps0"),
}

QUIET_ENV = {
    "N8N_LISTEN_ADDRESS": "127.0.0.1",
    "DB_TYPE": "sqlite",
    "N8N_DIAGNOSTICS_ENABLED": "false",
    "N8N_DIAGNOSTICS_CONFIG_FRONTEND": "",
    "N8N_DIAGNOSTICS_CONFIG_BACKEND": "",
    "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
    "N8N_TEMPLATES_ENABLED": "false",
    "N8N_PERSONALIZATION_ENABLED": "false",
    "N8N_HIRING_BANNER_ENABLED": "false",
    "N8N_LICENSE_AUTO_RENEW_ENABLED": "false",
    "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
    "N8N_AI_ENABLED": "false",
    "N8N_PUBLIC_API_DISABLED": "true",
    "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "false",
    "EXTERNAL_FRONTEND_HOOKS_URLS": "",
    "N8N_RUNNERS_BROKER_LISTEN_ADDRESS": "127.0.0.1",
    "NODE_ENV": "production",
}
SAVING_OFF_ENV = {
    "EXECUTIONS_DATA_SAVE_ON_SUCCESS": "none",
    "EXECUTIONS_DATA_SAVE_ON_ERROR": "all",
    "EXECUTIONS_DATA_SAVE_ON_PROGRESS": "false",
    "EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def install() -> Path:
    """The n8n binary, installing the pinned release into the cache on first use."""
    log("n8n: installing (first run takes a few minutes) or reusing the cached install")
    out = run_checked(["bash", str(INSTALL_SCRIPT)], timeout_s=900.0)
    return Path(out.strip().splitlines()[-1])


def version(binary: Path) -> str:
    package = binary.resolve().parent.parent / "package.json"
    return str(json.loads(package.read_text())["version"])


@dataclass
class N8n:
    binary: Path
    workdir: Path
    port: int = field(default_factory=free_port)
    broker_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def env(self, folder: Path, saving: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("N8N_", "DB_"))}
        env.update(QUIET_ENV)
        env.update(
            N8N_USER_FOLDER=str(folder),
            N8N_PORT=str(self.port),
            N8N_RUNNERS_BROKER_PORT=str(self.broker_port),
        )
        if not saving:
            env.update(SAVING_OFF_ENV)
        return env

    def prepare_template(self) -> Path:
        """Import and publish every workflow once into a fresh user folder."""
        folder = self.workdir / "template"
        env = self.env(folder, saving=True)
        sources = self.workdir / "workflows"
        sources.mkdir()
        for path, _, _ in WORKFLOWS.values():
            # --separate wants one workflow object per file; ours are one-element arrays.
            (sources / path.name).write_text(json.dumps(json.loads(path.read_text())[0]))
        log(f"n8n: importing {', '.join(WORKFLOWS)}")
        import_argv = [str(self.binary), "import:workflow", "--separate", f"--input={sources}"]
        run_checked(import_argv, env, 300.0)
        for _, workflow_id, _ in WORKFLOWS.values():
            run_checked([str(self.binary), "publish:workflow", f"--id={workflow_id}"], env, 300.0)
        return folder

    def start(self, template: Path, saving: bool, reaper: Reaper) -> None:
        label = "saving" if saving else "nosave"
        folder = self.workdir / label
        shutil.copytree(template, folder)
        self.process = spawn(
            [str(self.binary), "start"],
            env=self.env(folder, saving),
            log_path=self.workdir / f"n8n-{label}.log",
        )
        process = self.process
        reaper.defer("n8n", lambda: stop_group(process, "n8n"))
        wait_for(self._port_open, f"n8n on 127.0.0.1:{self.port}", timeout_s=180.0)
        log(f"n8n ({label}) listening on 127.0.0.1:{self.port} (pid {process.pid})")

    def _port_open(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"n8n exited with {self.process.returncode}; see {self.workdir}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, reaper: Reaper) -> None:
        if self.process is not None:
            stop_group(self.process, "n8n")
            reaper.forget("n8n")
            self.process = None


def make_workdir(reaper: Reaper, keep: bool) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="scenarist-bench-n8n-"))
    if not keep:
        reaper.defer("n8n workdir", lambda: shutil.rmtree(workdir, ignore_errors=True))
    return workdir
