# shellcheck shell=bash source-path=SCRIPTDIR
# Shared helpers for deploy/*.sh. Source it; do not run it.
#
# Environment (all optional):
#   SCENARIST_RUN_DIR    where run state lives (configs, data, logs, PID files);
#                        default <repo>/.scenarist/run
#   SCENARIST_CACHE_DIR  where downloaded artifacts are kept between runs;
#                        default ${XDG_CACHE_HOME:-$HOME/.cache}/scenarist

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${DEPLOY_DIR}/.." && pwd)"
export DEPLOY_DIR REPO_DIR

source "${DEPLOY_DIR}/versions.env"

RUN_ROOT="${SCENARIST_RUN_DIR:-${REPO_DIR}/.scenarist/run}"
CACHE_ROOT="${SCENARIST_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/scenarist}"
export RUN_ROOT CACHE_ROOT

log() { printf '[%s] %s\n' "${LOG_TAG:-deploy}" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG:-deploy}" "$*" >&2
  exit 1
}

# pid_alive PID -> 0 when a process with that PID exists (and is not a zombie).
pid_alive() {
  local pid="$1" state
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  state="$(ps -o stat= -p "${pid}" 2>/dev/null || true)"
  [[ -n "${state}" && "${state}" != Z* ]]
}

pid_gone() { ! pid_alive "$1"; }

# pidfile_alive FILE -> prints the PID and returns 0 if FILE names a live process.
pidfile_alive() {
  local file="$1" pid
  [[ -s "${file}" ]] || return 1
  pid="$(head -n1 "${file}" | tr -dc '0-9')"
  pid_alive "${pid}" || return 1
  printf '%s\n' "${pid}"
}

# find_pid_by_args SUFFIX -> the PID of a live process whose command line ends with SUFFIX.
# (-ww everywhere: without a terminal, e.g. under pytest, ps may cut args at 80 columns.)
find_pid_by_args() {
  local pid
  pid="$(ps -ww -eo pid=,stat=,args= | awk -v want="$1" '
    $2 !~ /^Z/ && length($0) >= length(want) && substr($0, length($0) - length(want) + 1) == want {
      print $1; exit
    }')"
  [[ -n "${pid}" ]] || return 1
  printf '%s\n' "${pid}"
}

# port_open HOST PORT -> 0 when something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for TIMEOUT_S DESCRIPTION CMD... : bounded poll (every 0.25 s) until CMD succeeds.
wait_for() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for ${what}"
      return 1
    fi
    sleep 0.25
  done
}

# stop_pid PID NAME [TIMEOUT_S] [SIGNAL]: send SIGNAL (default TERM), wait up to TIMEOUT_S
# (default 30), then SIGKILL. Returns 0 once the process is gone.
stop_pid() {
  local pid="$1" name="$2" timeout="${3:-30}" sig="${4:-TERM}"
  pid_alive "${pid}" || return 0
  log "stopping ${name} (pid ${pid}, SIG${sig})"
  kill -s "${sig}" "${pid}" 2>/dev/null || true
  if ! wait_for "${timeout}" "${name} (pid ${pid}) to exit" pid_gone "${pid}"; then
    log "${name} did not exit in ${timeout}s; sending SIGKILL"
    kill -s KILL "${pid}" 2>/dev/null || true
    wait_for 10 "${name} (pid ${pid}) to die" pid_gone "${pid}" ||
      die "could not kill ${name} (pid ${pid})"
  fi
}

# tail_log FILE [N]: print the last N lines of a log to stderr (for failure reports).
tail_log() {
  local file="$1" n="${2:-40}"
  if [[ -f "${file}" ]]; then
    printf -- '----- last %s lines of %s -----\n' "${n}" "${file}" >&2
    tail -n "${n}" "${file}" >&2
    printf -- '-----\n' >&2
  fi
}

# Bounded wait for an exclusive lock on FILE (serialises concurrent up/down of one service).
with_lock() {
  local file="$1"
  shift
  mkdir -p "$(dirname "${file}")"
  (
    flock -w 300 9 || die "could not lock ${file} within 300s"
    # Close fd 9 for the command: a daemon it starts must not inherit (and hold) the lock.
    "$@" 9>&-
  ) 9>"${file}"
}
