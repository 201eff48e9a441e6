#!/usr/bin/env bash
# The single entry point for Scenarist's local infrastructure (loopback only).
#
#   infra.sh up     [kafka|postgres|redis|mysql|all]...   start (reuse what already runs), wait
#                                                   ready; 'up kafka' also creates the topics of
#                                                   scenarist_bus.topics; mysql is opt-in (not in all)
#   infra.sh down   [kafka|postgres|redis|mysql|all]...   stop; leaves no process behind
#   infra.sh status                                 one line per service; exit 1 if any is down
#   infra.sh env                                    export lines for the services' clients:
#                                                   eval "$(deploy/infra.sh env)"
#
# No argument means all. See deploy/README.md for ports, directories and environment variables.
set -euo pipefail
export LOG_TAG=infra
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

ALL=(postgres redis kafka)
# Opt-in services: started only when named (the MySQL app's tests), never by 'all'.
OPTIONAL=(mysql)

services() {
  local -a out=()
  local s
  if [[ $# -eq 0 ]]; then
    set -- all
  fi
  for s in "$@"; do
    case "${s}" in
    all) out+=("${ALL[@]}") ;;
    kafka | postgres | redis | mysql) out+=("${s}") ;;
    *) die "unknown service '${s}' (kafka, postgres, redis, mysql or all)" ;;
    esac
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

script() { printf '%s/%s/%s.sh\n' "${DEPLOY_DIR}" "$1" "$1"; }

up_one() {
  "$(script "$1")" up
  if [[ "$1" == kafka ]]; then
    "$(script kafka)" topics >&2
  fi
}

cmd_up() {
  local s
  local -a list
  mapfile -t list < <(services "$@")
  for s in "${list[@]}"; do
    up_one "${s}"
  done
}

cmd_down() {
  local s rc=0
  local -a list
  mapfile -t list < <(services "$@")
  # Stop in reverse start order; keep going if one fails so nothing is left behind.
  for ((i = ${#list[@]} - 1; i >= 0; i--)); do
    s="${list[i]}"
    "$(script "${s}")" down || rc=1
  done
  return "${rc}"
}

cmd_status() {
  local s rc=0
  for s in "${ALL[@]}"; do
    "$(script "${s}")" status || rc=1
  done
  # Opt-in services are reported, but one that is down is not a failure.
  for s in "${OPTIONAL[@]}"; do
    "$(script "${s}")" status || true
  done
  return "${rc}"
}

cmd_env() {
  printf 'export SCENARIST_KAFKA_BOOTSTRAP=%q\n' "$("$(script kafka)" bootstrap)"
  printf 'export SCENARIST_POSTGRES_DSN=%q\n' "$("$(script postgres)" dsn)"
  printf 'export SCENARIST_REDIS_URL=%q\n' "$("$(script redis)" url)"
}

cmd="${1:-}"
shift || true
case "${cmd}" in
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
status) cmd_status ;;
env) cmd_env ;;
*)
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
