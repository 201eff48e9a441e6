"""`python -m scenarist_studio`: one studio process (distributed mode; the image entry point)."""

from __future__ import annotations

from scenarist_runtime.main import run_services

if __name__ == "__main__":
    raise SystemExit(run_services(["studio"]))
