#!/usr/bin/env bash
# MariaDB (MySQL-compatible) on loopback (127.0.0.1:13306, user/database "scenarist").
# Opt-in: only for the MySQL app's tests; 'infra.sh up mysql' starts it, 'all' does not.
#
#   mysql.sh up       install mariadb-server with apt if missing, initialise the data dir
#                     (first time), start, wait ready
#   mysql.sh down     stop by PID (SIGTERM, bounded wait, SIGKILL); idempotent
#   mysql.sh status   exit 0 when it answers a ping
#   mysql.sh url      print the mysql:// URL
#
# Environment: SCENARIST_MYSQL_PORT (13306), SCENARIST_MYSQL_PASSWORD (scenarist),
# SCENARIST_MYSQL_OS_USER (the OS user the server runs as when this runs as root: mysql),
# SCENARIST_MYSQL_START_TIMEOUT (60 s), plus SCENARIST_RUN_DIR (see deploy/lib.sh).
set -euo pipefail
export LOG_TAG=mysql
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

HOST=127.0.0.1
PORT="${SCENARIST_MYSQL_PORT:-13306}"
PASSWORD="${SCENARIST_MYSQL_PASSWORD:-scenarist}"
OS_USER="${SCENARIST_MYSQL_OS_USER:-mysql}"
TIMEOUT="${SCENARIST_MYSQL_START_TIMEOUT:-60}"
RUN="${RUN_ROOT}/mysql"
DATA="${RUN}/data"
SOCKET="${RUN}/mysqld.sock"
PIDFILE="${RUN}/mysqld.pid"
LOGFILE="${RUN}/mysqld.log"
STAMP="${DATA}/.scenarist-initialised"

ensure_installed() {
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || install_server
  command -v mariadb-install-db >/dev/null || die "mariadb-install-db is missing (apt-get install mariadb-server)"
}

install_server() {
  [[ "$(id -u)" == 0 ]] || die "mariadb-server is not installed (sudo apt-get install mariadb-server)"
  command -v apt-get >/dev/null || die "mariadb-server is not installed and apt-get is not available"
  log "installing mariadb-server with apt-get"
  local stamp="/var/lib/apt/periodic/scenarist-update-stamp"
  if [[ ! -f "${stamp}" ]]; then
    apt-get update -q >&2
    mkdir -p "$(dirname "${stamp}")" && touch "${stamp}"
  fi
  # policy-rc.d may or may not let the package start its own server on :3306; ours is separate.
  DEBIAN_FRONTEND=noninteractive apt-get -y -q install mariadb-server >&2
}

mariadbd_bin() { command -v mariadbd || printf '/usr/sbin/mariadbd\n'; }

# Options every start and the initialisation share; --no-defaults keeps /etc/mysql out of it.
as_user() {
  if [[ "$(id -u)" == 0 ]]; then
    printf -- '--user=%s\n' "${OS_USER}"
  fi
}

# Pings over the socket as root (no password; the socket lives in our run dir only).
ping() {
  mariadb-admin --no-defaults --socket="${SOCKET}" --user=root --connect-timeout=2 ping
}

sql() { mariadb --no-defaults --socket="${SOCKET}" --user=root --batch -e "$1"; }

initialise() {
  [[ -f "${STAMP}" ]] && return 0
  log "initialising ${DATA}"
  rm -rf "${DATA}"
  mkdir -p "${DATA}"
  if [[ "$(id -u)" == 0 ]]; then
    id "${OS_USER}" >/dev/null 2>&1 || die "OS user ${OS_USER} does not exist (SCENARIST_MYSQL_OS_USER)"
    chown -R "${OS_USER}:" "${RUN}"
  fi
  # root has no password on the socket: only the run dir's owner (and root) may reach it.
  chmod 700 "${RUN}"
  # shellcheck disable=SC2046
  mariadb-install-db --no-defaults --datadir="${DATA}" $(as_user) \
    --auth-root-authentication-method=normal --skip-test-db >>"${LOGFILE}" 2>&1 || {
    tail_log "${LOGFILE}"
    die "mariadb-install-db failed"
  }
}

start_server() {
  log "starting mariadbd on ${HOST}:${PORT}"
  : >>"${LOGFILE}"
  if [[ "$(id -u)" == 0 ]]; then
    chown "${OS_USER}:" "${LOGFILE}"
  fi
  # shellcheck disable=SC2046
  setsid "$(mariadbd_bin)" --no-defaults --datadir="${DATA}" $(as_user) \
    --bind-address="${HOST}" --port="${PORT}" --socket="${SOCKET}" --pid-file="${PIDFILE}" \
    --log-error="${LOGFILE}" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=64M --max-connections=200 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    </dev/null >>"${LOGFILE}" 2>&1 &
}

# The first start creates the application user; the stamp marks a complete initialisation.
create_user() {
  [[ -f "${STAMP}" ]] && return 0
  sql "CREATE USER IF NOT EXISTS 'scenarist'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
       CREATE USER IF NOT EXISTS 'scenarist'@'localhost' IDENTIFIED BY '${PASSWORD}';
       CREATE DATABASE IF NOT EXISTS scenarist;
       GRANT ALL PRIVILEGES ON *.* TO 'scenarist'@'127.0.0.1' WITH GRANT OPTION;
       GRANT ALL PRIVILEGES ON *.* TO 'scenarist'@'localhost' WITH GRANT OPTION;" ||
    die "could not create the scenarist user"
  touch "${STAMP}"
}

# The PID from the server's PID file, checked against the process (its data dir).
our_pid() {
  local pid
  pid="$(pidfile_alive "${PIDFILE}")" || return 1
  ps -ww -o args= -p "${pid}" | grep -qF -- "--datadir=${DATA}" || return 1
  printf '%s\n' "${pid}"
}

cmd_up() {
  ensure_installed
  local pid
  mkdir -p "${RUN}"
  if pid="$(our_pid)"; then
    log "already running (pid ${pid})"
  else
    port_open "${HOST}" "${PORT}" &&
      die "port ${PORT} on ${HOST} is in use by another process (not started from ${RUN})"
    initialise
    rm -f "${PIDFILE}" "${SOCKET}"
    start_server
  fi
  if ! wait_for "${TIMEOUT}" "mariadb ping on ${SOCKET}" ping; then
    tail_log "${LOGFILE}"
    die "mariadb not ready on ${HOST}:${PORT} after ${TIMEOUT}s"
  fi
  wait_for 10 "mariadb PID file" our_pid || die "mariadb answers but wrote no PID file ${PIDFILE}"
  create_user
  log "ready: $(url) (pid $(our_pid))"
}

cmd_down() {
  local pid
  if pid="$(our_pid)"; then
    stop_pid "${pid}" mariadb 30 TERM
  else
    log "not running"
  fi
  rm -f "${PIDFILE}"
}

cmd_status() {
  local pid
  if pid="$(our_pid)" && ping >/dev/null 2>&1 && port_open "${HOST}" "${PORT}"; then
    log "running (pid ${pid}) on ${HOST}:${PORT}"
  else
    log "not running"
    return 1
  fi
}

url() { printf 'mysql://scenarist:%s@%s:%s/scenarist\n' "${PASSWORD}" "${HOST}" "${PORT}"; }

case "${1:-}" in
# up/down of one run dir are serialised across processes (tests and make may race).
up) with_lock "${RUN_ROOT}/.mysql.lock" cmd_up ;;
down) with_lock "${RUN_ROOT}/.mysql.lock" cmd_down ;;
status) cmd_status ;;
url) url ;;
*)
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
