#!/usr/bin/env bash
# `make bench-peers`: n8n (pinned, installed into the cache on first use) beside Scenarist.
# Bounded: everything is stopped after BENCH_TIMEOUT seconds (default 900) at the latest;
# the harness stops what it started on SIGTERM, and `timeout` signals its whole group.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# n8n's first install (~6.5 min here, cached afterwards) is set-up like `make install`: bounded
# on its own, so the benchmark itself keeps its whole BENCH_TIMEOUT.
if [[ " $* " != *" --skip-n8n "* ]]; then
  timeout --kill-after=30 "${N8N_INSTALL_TIMEOUT:-900}" bash bench/n8n_install.sh >&2
fi
exec timeout --kill-after=30 "${BENCH_TIMEOUT:-900}" .venv/bin/python -m bench.peers "$@"
