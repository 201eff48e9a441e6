#!/usr/bin/env bash
# Scenarist's five services as separate processes on loopback (distributed mode, `make up`).
#
#   services.sh up      start orchestrator, trigger, log, connector-gateway and N executors
#                       (SCENARIST_EXECUTORS, default 2); prints where everything listens
#   services.sh down    stop them (SIGTERM, drain, then SIGKILL after the timeout)
#   services.sh status  one line per process
#
# Needs the infrastructure (deploy/infra.sh up) and a bootstrap token written by the
# orchestrator to ${RUN_ROOT}/services/bootstrap.env. Logs: ${RUN_ROOT}/services/<name>.log.
set -euo pipefail
export LOG_TAG=services
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SVC_DIR="${RUN_ROOT}/services"
PY="${REPO_DIR}/.venv/bin/python"
EXECUTORS="${SCENARIST_EXECUTORS:-2}"

# name module http_port grpc_port
PROCESSES=(
  "orchestrator scenarist_orchestrator 18081 50051"
  "log scenarist_log 18083 50053"
  "connector_gateway scenarist_connector_gateway 18084 50054"
  "trigger scenarist_trigger 8080 50052"
)

process_list() {
  printf '%s\n' "${PROCESSES[@]}"
  local i
  for ((i = 1; i <= EXECUTORS; i++)); do
    printf 'executor-%d scenarist_executor %d 0\n' "${i}" $((18090 + i))
  done
}

start_one() {
  local name="$1" module="$2" http="$3" grpc="$4" pidfile log pid
  pidfile="${SVC_DIR}/${name}.pid"
  log="${SVC_DIR}/${name}.log"
  if pid="$(pidfile_alive "${pidfile}")"; then
    log "${name} already running (pid ${pid})"
    return 0
  fi
  (
    export SCENARIST_SERVICE_NAME="${name}" SCENARIST_MODE=distributed
    export SCENARIST_HTTP_PORT="${http}" SCENARIST_GRPC_PORT="${grpc}"
    export SCENARIST_ORCHESTRATOR_TARGET=127.0.0.1:50051
    export SCENARIST_BOOTSTRAP_FILE="${SVC_DIR}/bootstrap.env"
    exec "${PY}" -m "${module}" >>"${log}" 2>&1
  ) &
  echo $! >"${pidfile}"
  wait_for 60 "${name} readiness" curl -fsS "http://127.0.0.1:${http}/readyz" ||
    die "${name} did not become ready; last log lines:
$(tail -n 20 "${log}")"
  log "${name} ready: http 127.0.0.1:${http}$([[ ${grpc} != 0 ]] && echo ", grpc 127.0.0.1:${grpc}")"
}

cmd_up() {
  mkdir -p "${SVC_DIR}"
  # shellcheck disable=SC1090
  eval "$("${DEPLOY_DIR}/infra.sh" env)"
  export SCENARIST_POSTGRES_DSN SCENARIST_KAFKA_BOOTSTRAP SCENARIST_REDIS_URL
  "${PY}" -m scenarist_storage.migrate --all >&2
  "${PY}" -m scenarist_bus.topics create >&2
  local line
  while read -r line; do
    # shellcheck disable=SC2086
    start_one ${line}
  done < <(process_list)
}

cmd_down() {
  local line name pid rc=0
  [[ -d "${SVC_DIR}" ]] || return 0
  for pidfile in "${SVC_DIR}"/*.pid; do
    [[ -e "${pidfile}" ]] || continue
    name="$(basename "${pidfile}" .pid)"
    if pid="$(pidfile_alive "${pidfile}")"; then
      stop_pid "${pid}" "${name}" 40 || rc=1
    fi
    rm -f "${pidfile}"
  done
  return "${rc}"
}

cmd_status() {
  local line name rc=0 pid
  while read -r line; do
    name="${line%% *}"
    if pid="$(pidfile_alive "${SVC_DIR}/${name}.pid")"; then
      printf '%-20s up (pid %s)\n' "${name}" "${pid}"
    else
      printf '%-20s down\n' "${name}"
      rc=1
    fi
  done < <(process_list)
  return "${rc}"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*) die "usage: services.sh up|down|status" ;;
esac
