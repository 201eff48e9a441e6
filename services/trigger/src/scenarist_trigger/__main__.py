"""`python -m scenarist_trigger`: one trigger process (distributed mode)."""

from __future__ import annotations

from scenarist_runtime.main import run_services

if __name__ == "__main__":
    raise SystemExit(run_services(["trigger"]))
