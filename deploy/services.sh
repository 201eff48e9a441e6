#!/usr/bin/env bash
# Scenarist's five services as separate processes on loopback (distributed mode, `make up`).
#
#   services.sh up             migrate, create topics, start orchestrator, trigger, log,
#                              M connector gateways (SCENARIST_GATEWAYS, default 2) and N
#                              executors (SCENARIST_EXECUTORS, default 2),
#                              write the CLI's local.env and print where everything listens
#   services.sh start NAME...  start these processes only (infrastructure already prepared), e.g.
#                              a new orchestrator after one was killed: `start orchestrator`
#   services.sh down           stop them all (SIGTERM, drain, SIGKILL after 40 s)
#   services.sh status         one line per process
#   services.sh list           "name module http_port grpc_port" per process
#
# Needs the infrastructure (deploy/infra.sh up). State in ${RUN_ROOT}/services: <name>.pid,
# <name>.log, keys.env (the secret keys, generated once, mode 600) and bootstrap.env (the owner
# token the first orchestrator writes). Ports (loopback) can be moved with
# SCENARIST_{ORCHESTRATOR,TRIGGER,LOG,GATEWAY}_{HTTP,GRPC}_PORT, SCENARIST_GATEWAY_INTERNAL_PORT
# and SCENARIST_EXECUTOR_HTTP_PORT_BASE (executor i listens on base + i), so test sessions never
# collide with a developer's `make up`. Gateway i > 1 takes the first gateway's HTTP and internal
# ports + i - 1 and a free public gRPC port (the API's clients use the first; executors and the
# trigger spread their calls over every gateway's internal port, round robin). A system of its
# own on the same infrastructure (the distributed benchmark): SCENARIST_SERVICES_POSTGRES_DSN (a
# database instead of the one infra.sh names), SCENARIST_SERVICES_DIR (pids, logs, keys and
# bootstrap token) and SCENARIST_LOCAL_ENV (the CLI's local.env), so its runs never land in the
# developer's history.
set -euo pipefail
export LOG_TAG=services
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

SVC_DIR="${SCENARIST_SERVICES_DIR:-${RUN_ROOT}/services}"
PY="${REPO_DIR}/.venv/bin/python"
EXECUTORS="${SCENARIST_EXECUTORS:-2}"
GATEWAYS="${SCENARIST_GATEWAYS:-2}"
LOCAL_ENV="${SCENARIST_LOCAL_ENV:-${REPO_DIR}/.scenarist/local.env}"
KEYS_FILE="${SVC_DIR}/keys.env"
BOOTSTRAP_FILE="${SVC_DIR}/bootstrap.env"
START_TIMEOUT="${SCENARIST_SERVICES_START_TIMEOUT:-90}"

ORCH_GRPC="${SCENARIST_ORCHESTRATOR_GRPC_PORT:-50051}"
TRIGGER_HTTP="${SCENARIST_TRIGGER_HTTP_PORT:-8080}"
TRIGGER_GRPC="${SCENARIST_TRIGGER_GRPC_PORT:-50052}"
LOG_GRPC="${SCENARIST_LOG_GRPC_PORT:-50053}"
GATEWAY_GRPC="${SCENARIST_GATEWAY_GRPC_PORT:-50054}"
# Where executors call ExecuteModule (the gateway's internal gRPC port, not for API tokens).
GATEWAY_INTERNAL="${SCENARIST_GATEWAY_INTERNAL_PORT:-50055}"
GATEWAY_HTTP="${SCENARIST_GATEWAY_HTTP_PORT:-18084}"
PUBLIC_URL="http://127.0.0.1:${TRIGGER_HTTP}"

# name module http_port grpc_port (gRPC 0: a free port; executors serve no gRPC API)
process_list() {
  printf '%s\n' \
    "orchestrator scenarist_orchestrator ${SCENARIST_ORCHESTRATOR_HTTP_PORT:-18081} ${ORCH_GRPC}" \
    "trigger scenarist_trigger ${TRIGGER_HTTP} ${TRIGGER_GRPC}" \
    "log scenarist_log ${SCENARIST_LOG_HTTP_PORT:-18083} ${LOG_GRPC}" \
    "connector_gateway scenarist_connector_gateway ${GATEWAY_HTTP} ${GATEWAY_GRPC}"
  local i base="${SCENARIST_EXECUTOR_HTTP_PORT_BASE:-18090}"
  for ((i = 2; i <= GATEWAYS; i++)); do
    printf 'connector_gateway-%d scenarist_connector_gateway %d 0\n' "${i}" $((GATEWAY_HTTP + i - 1))
  done
  for ((i = 1; i <= EXECUTORS; i++)); do
    printf 'executor-%d scenarist_executor %d 0\n' "${i}" $((base + i))
  done
}

process_line() {
  local line
  while read -r line; do
    if [[ "${line%% *}" == "$1" ]]; then
      printf '%s\n' "${line}"
      return 0
    fi
  done < <(process_list)
  die "unknown process '$1' (see: services.sh list)"
}

# The keys that encrypt connection secrets and seal webhook URLs, and the secret executors show
# on the gateway's internal port: generated once per run dir and shared by every process.
ensure_keys() {
  [[ -s "${KEYS_FILE}" ]] && return 0
  local tmp="${KEYS_FILE}.$$.tmp"
  (
    umask 077
    printf 'SCENARIST_SECRETS_KEY=%s\nSCENARIST_WEBHOOK_SECRET_KEY=%s\n' \
      "$(head -c 32 /dev/urandom | base64)" "$(head -c 32 /dev/urandom | base64)" >"${tmp}"
    printf 'SCENARIST_INTERNAL_SECRET=%s\n' "$(head -c 32 /dev/urandom | base64)" >>"${tmp}"
  )
  mv -f "${tmp}" "${KEYS_FILE}"
  log "generated secret keys in ${KEYS_FILE}"
}

infra_env() {
  # shellcheck disable=SC1090
  eval "$("${DEPLOY_DIR}/infra.sh" env)"
  SCENARIST_POSTGRES_DSN="${SCENARIST_SERVICES_POSTGRES_DSN:-${SCENARIST_POSTGRES_DSN}}"
  export SCENARIST_POSTGRES_DSN SCENARIST_KAFKA_BOOTSTRAP SCENARIST_REDIS_URL
}

# gateway_internal_port NAME: the internal port of connector_gateway[-i].
gateway_internal_port() {
  local i=1
  [[ "$1" == connector_gateway-* ]] && i="${1#connector_gateway-}"
  printf '%d' $((GATEWAY_INTERNAL + i - 1))
}

# Where executors and the trigger call ExecuteModule: every gateway's internal port (gRPC's
# ipv4: scheme lists several; the client spreads calls over them, round robin).
gateway_target() {
  local i target="127.0.0.1:$(gateway_internal_port connector_gateway)"
  for ((i = 2; i <= GATEWAYS; i++)); do
    target+=",127.0.0.1:$(gateway_internal_port "connector_gateway-${i}")"
  done
  if ((GATEWAYS > 1)); then target="ipv4:${target}"; fi
  printf '%s' "${target}"
}

# launch NAME MODULE HTTP GRPC: start one process in the background unless it already runs.
launch() {
  local name="$1" module="$2" http="$3" grpc="$4" pidfile pid
  pidfile="${SVC_DIR}/${name}.pid"
  if pid="$(pidfile_alive "${pidfile}")"; then
    log "${name} already running (pid ${pid})"
    return 0
  fi
  (
    set -a
    # shellcheck disable=SC1090
    source "${KEYS_FILE}"
    set +a
    export SCENARIST_SERVICE_NAME="${name}" SCENARIST_MODE=distributed
    export SCENARIST_HTTP_PORT="${http}" SCENARIST_GRPC_PORT="${grpc}"
    export SCENARIST_ORCHESTRATOR_TARGET="127.0.0.1:${ORCH_GRPC}"
    export SCENARIST_PUBLIC_URL="${PUBLIC_URL}"
    export SCENARIST_BOOTSTRAP_FILE="${BOOTSTRAP_FILE}"
    SCENARIST_GATEWAY_INTERNAL_PORT="$(gateway_internal_port "${name}")"
    SCENARIST_GATEWAY_TARGET="$(gateway_target)"
    export SCENARIST_GATEWAY_INTERNAL_PORT SCENARIST_GATEWAY_TARGET
    # setsid: Ctrl-C in the terminal that ran `make up` must not reach the services.
    exec setsid "${PY}" -m "${module}" >>"${SVC_DIR}/${name}.log" 2>&1 </dev/null
  ) &
  echo $! >"${pidfile}"
}

await_ready() {
  local name="$1" http="$3"
  wait_for "${START_TIMEOUT}" "${name} readiness" curl -fsS "http://127.0.0.1:${http}/readyz" ||
    {
      tail_log "${SVC_DIR}/${name}.log" 30
      die "${name} did not become ready"
    }
}

start_processes() {
  mkdir -p "${SVC_DIR}"
  ensure_keys
  local line
  local -a lines=()
  for name in "$@"; do
    lines+=("$(process_line "${name}")")
  done
  for line in "${lines[@]}"; do
    # shellcheck disable=SC2086
    launch ${line}
  done
  for line in "${lines[@]}"; do
    # shellcheck disable=SC2086
    await_ready ${line}
  done
}

write_local_env() {
  wait_for 30 "the bootstrap token in ${BOOTSTRAP_FILE}" test -s "${BOOTSTRAP_FILE}" ||
    die "the orchestrator wrote no bootstrap token"
  local token tmp
  token="$(sed -n 's/^SCENARIST_TOKEN=//p' "${BOOTSTRAP_FILE}")"
  [[ -n "${token}" ]] || die "no SCENARIST_TOKEN in ${BOOTSTRAP_FILE}"
  mkdir -p "$(dirname "${LOCAL_ENV}")"
  tmp="${LOCAL_ENV}.$$.tmp"
  (
    umask 077
    {
      printf '# Written by deploy/services.sh (make up). Read by the scenarist CLI.\n'
      printf 'SCENARIST_SERVER=127.0.0.1:%s\nSCENARIST_TOKEN=%s\nSCENARIST_PUBLIC_URL=%s\n' \
        "${ORCH_GRPC}" "${token}" "${PUBLIC_URL}"
      # The other services' gRPC APIs (webhooks, execution logs, connections, data stores).
      printf 'SCENARIST_TRIGGER_SERVER=127.0.0.1:%s\nSCENARIST_LOG_SERVER=127.0.0.1:%s\n' \
        "${TRIGGER_GRPC}" "${LOG_GRPC}"
      printf 'SCENARIST_GATEWAY_SERVER=127.0.0.1:%s\n' "${GATEWAY_GRPC}"
    } >"${tmp}"
  )
  mv -f "${tmp}" "${LOCAL_ENV}"
}

print_summary() {
  local line name module http grpc pid
  printf '\nScenarist is up (distributed mode: one process per service).\n'
  printf '  %-20s %-22s %-22s %s\n' process gRPC "http (/livez /readyz /metrics)" pid
  while read -r name module http grpc; do
    pid="$(pidfile_alive "${SVC_DIR}/${name}.pid" || echo '?')"
    [[ "${grpc}" == 0 ]] && grpc=- || grpc="127.0.0.1:${grpc}"
    printf '  %-20s %-22s %-22s %s\n' "${name}" "${grpc}" "127.0.0.1:${http}" "${pid}"
  done < <(process_list)
  printf '  webhooks: %s/hooks/<token>\n' "${PUBLIC_URL}"
  printf '  Kafka %s   Postgres %s   Redis %s\n' "${SCENARIST_KAFKA_BOOTSTRAP}" \
    "$(sed -E 's#//([^:]+):[^@]*@#//\1:***@#' <<<"${SCENARIST_POSTGRES_DSN}")" \
    "${SCENARIST_REDIS_URL}"
  printf '  logs: %s/<process>.log\n' "${SVC_DIR}"
  printf '  CLI server and owner token: %s (try: .venv/bin/scenarist scenario list)\n' "${LOCAL_ENV}"
  printf '  stop everything: make down\n\n'
}

cmd_up() {
  mkdir -p "${SVC_DIR}"
  infra_env
  "${PY}" -m scenarist_storage.migrate --all >&2
  "${PY}" -m scenarist_bus.topics create >&2
  local -a names
  mapfile -t names < <(process_list | awk '{print $1}')
  start_processes "${names[@]}"
  write_local_env
  print_summary
}

cmd_start() {
  [[ $# -gt 0 ]] || die "usage: services.sh start NAME..."
  infra_env
  start_processes "$@"
}

cmd_down() {
  local pidfile name pid rc=0
  local -a pids=() names=()
  [[ -d "${SVC_DIR}" ]] || return 0
  # SIGTERM everyone first so they drain in parallel, then wait for each (bounded).
  for pidfile in "${SVC_DIR}"/*.pid; do
    [[ -e "${pidfile}" ]] || continue
    name="$(basename "${pidfile}" .pid)"
    if pid="$(pidfile_alive "${pidfile}")"; then
      log "stopping ${name} (pid ${pid}, SIGTERM)"
      kill -s TERM "${pid}" 2>/dev/null || true
      pids+=("${pid}")
      names+=("${name}")
    fi
    rm -f "${pidfile}"
  done
  # Not stop_pid: a second SIGTERM would cut the drain short.
  for i in "${!pids[@]}"; do
    if ! wait_for 40 "${names[i]} (pid ${pids[i]}) to exit" pid_gone "${pids[i]}"; then
      log "${names[i]} did not drain in 40s; sending SIGKILL"
      kill -s KILL "${pids[i]}" 2>/dev/null || true
      wait_for 10 "${names[i]} to die" pid_gone "${pids[i]}" || rc=1
    fi
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

cmd="${1:-}"
shift || true
case "${cmd}" in
up) cmd_up ;;
start) cmd_start "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
list) process_list ;;
*) die "usage: services.sh up|start NAME...|down|status|list" ;;
esac
