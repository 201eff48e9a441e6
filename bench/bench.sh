#!/usr/bin/env bash
# `make bench`: every workload against Scenarist (standalone and distributed) and Kafka's own
# perf tools. Bounded by BENCH_TIMEOUT seconds (default 900); stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec timeout --kill-after=30 "${BENCH_TIMEOUT:-900}" .venv/bin/python -m bench.run "$@"
