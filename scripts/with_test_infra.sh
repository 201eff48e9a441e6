#!/usr/bin/env bash
# Run a command with the test infrastructure up (real Kafka, Postgres and Redis from deploy/),
# on ports and in a run dir of its own so `make test` never collides with `make run`/`make up`.
# Everything it started is stopped on exit, whatever the command's outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
export SCENARIST_RUN_DIR="${SCENARIST_TEST_RUN_DIR:-${PWD}/.scenarist/test-run}"
export SCENARIST_PG_PORT="${SCENARIST_TEST_PG_PORT:-25432}"
export SCENARIST_KAFKA_PORT="${SCENARIST_TEST_KAFKA_PORT:-29092}"
export SCENARIST_KAFKA_CONTROLLER_PORT="${SCENARIST_TEST_KAFKA_CONTROLLER_PORT:-29093}"
export SCENARIST_REDIS_PORT="${SCENARIST_TEST_REDIS_PORT:-26379}"
# MariaDB is opt-in: tests/integration/apps/test_mysql.py starts it; 'down' also stops it here.
export SCENARIST_MYSQL_PORT="${SCENARIST_TEST_MYSQL_PORT:-23306}"
trap 'deploy/infra.sh down all mysql >&2 || true' EXIT
deploy/infra.sh up all >&2
eval "$(deploy/infra.sh env)"
export SCENARIST_POSTGRES_DSN SCENARIST_KAFKA_BOOTSTRAP SCENARIST_REDIS_URL
"$@"
