#!/usr/bin/env bash
# `make bench-peers`: n8n (pinned, installed into the cache on first use) beside Scenarist.
# Bounded: everything is stopped after BENCH_TIMEOUT seconds (default 900) at the latest;
# the harness stops what it started on SIGTERM, and `timeout` signals its whole group.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec timeout --kill-after=30 "${BENCH_TIMEOUT:-900}" .venv/bin/python -m bench.peers "$@"
