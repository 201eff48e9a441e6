#!/usr/bin/env bash
# Apache Kafka (KRaft, single node: broker + controller) on loopback, fetched from Maven Central.
#
#   kafka.sh fetch                 download the broker + tools jars into the cache (once)
#   kafka.sh up                    fetch, format storage (first time), start, wait until ready
#   kafka.sh down                  stop by PID (SIGTERM, bounded wait, SIGKILL); idempotent
#   kafka.sh status                exit 0 when running and answering metadata
#   kafka.sh topics [FILE]         create/grow the topics of scenarist_bus.topics (or FILE)
#   kafka.sh describe [TOPIC...]   print "topic partitions replication"
#   kafka.sh bootstrap             print the bootstrap address
#   kafka.sh cluster-id [N]        print N (default 1) new KRaft cluster ids
#   kafka.sh classpath             print the classpath of the fetched jars
#   kafka.sh run-class CLASS ARGS  run any Kafka class, e.g. org.apache.kafka.tools.ProducerPerformance
#
# Environment: SCENARIST_KAFKA_PORT (19092), SCENARIST_KAFKA_CONTROLLER_PORT (19093),
# SCENARIST_KAFKA_HEAP (512m), SCENARIST_KAFKA_JVM_OPTS (JVM flags, split on spaces;
# default -XX:TieredStopAtLevel=1),
# SCENARIST_KAFKA_START_TIMEOUT (120 s),
# SCENARIST_KAFKA_REPLICATION (1), SCENARIST_MAVEN_REPO (maven local repo; default ~/.m2),
# plus SCENARIST_RUN_DIR / SCENARIST_CACHE_DIR (see deploy/lib.sh).
set -euo pipefail
export LOG_TAG=kafka
# shellcheck source-path=SCRIPTDIR/..
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

HOST=127.0.0.1
PORT="${SCENARIST_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${SCENARIST_KAFKA_CONTROLLER_PORT:-19093}"
HEAP="${SCENARIST_KAFKA_HEAP:-512m}"
# C1 only by default: this broker serves one box (dev, tests, the benchmark), where C2 compiling
# its hot paths took as much CPU as serving requests for many minutes after start (the
# benchmark's fan-out: 0.5-2.3 s of compiler threads per point, next to 0.5-2 s of request
# handlers); C1 code served the same requests for the same request-handler CPU. A long-lived
# broker under heavy load wants C2: SCENARIST_KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=4.
read -r -a JVM_OPTS <<<"${SCENARIST_KAFKA_JVM_OPTS:--XX:TieredStopAtLevel=1}"
START_TIMEOUT="${SCENARIST_KAFKA_START_TIMEOUT:-120}"
REPLICATION="${SCENARIST_KAFKA_REPLICATION:-1}"
BOOTSTRAP="${HOST}:${PORT}"

KAFKA_HOME="${CACHE_ROOT}/kafka-${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}"
LIBS="${KAFKA_HOME}/libs"
RUN="${RUN_ROOT}/kafka"
PIDFILE="${RUN}/kafka.pid"
CONF="${RUN}/server.properties"
SERVER_LOG="${RUN}/logs/server.log"
STDOUT_LOG="${RUN}/logs/stdout.log"
HERE="${DEPLOY_DIR}/kafka"

# The cache is complete when the marker names exactly this version set and pom.
fetch_stamp() {
  printf '%s\n' "kafka=${KAFKA_VERSION} scala=${KAFKA_SCALA_VERSION} log4j=${KAFKA_LOG4J_VERSION}" \
    "pom=$(sha256sum "${HERE}/pom.xml" | cut -d' ' -f1)"
}

fetch_complete() {
  [[ -f "${KAFKA_HOME}/.complete" ]] && [[ "$(cat "${KAFKA_HOME}/.complete")" == "$(fetch_stamp)" ]]
}

cmd_fetch() {
  fetch_complete && return 0
  # One fetch at a time per cache: a second caller waits, then finds the cache complete.
  with_lock "${KAFKA_HOME}.lock" do_fetch
}

do_fetch() {
  fetch_complete && return 0
  command -v mvn >/dev/null || die "mvn (Maven) is required to fetch Kafka from Maven Central"
  command -v java >/dev/null || die "java (17+) is required to run Kafka"
  log "fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS}"
  mkdir -p "${KAFKA_HOME}"
  local tmp="${KAFKA_HOME}/libs.tmp.$$"
  rm -rf "${tmp}"
  local -a mvn_args=(-q -B -f "${HERE}/pom.xml"
    "-Dkafka.version=${KAFKA_VERSION}" "-Dkafka.scala.version=${KAFKA_SCALA_VERSION}"
    "-Dlog4j.version=${KAFKA_LOG4J_VERSION}"
    "-Ddependency.plugin.version=${MAVEN_DEPENDENCY_PLUGIN_VERSION}"
    -DincludeScope=runtime "-DoutputDirectory=${tmp}")
  if [[ -n "${SCENARIST_MAVEN_REPO:-}" ]]; then
    mvn_args+=("-Dmaven.repo.local=${SCENARIST_MAVEN_REPO}")
  fi
  if ! mvn "${mvn_args[@]}" \
    "org.apache.maven.plugins:maven-dependency-plugin:${MAVEN_DEPENDENCY_PLUGIN_VERSION}:copy-dependencies" \
    >"${KAFKA_HOME}/fetch.log" 2>&1; then
    tail_log "${KAFKA_HOME}/fetch.log"
    rm -rf "${tmp}"
    die "maven could not fetch Kafka ${KAFKA_VERSION} (see ${KAFKA_HOME}/fetch.log)"
  fi
  [[ -f "${tmp}/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] || die "fetch finished without the kafka jar"
  rm -rf "${LIBS}"
  mv "${tmp}" "${LIBS}"
  fetch_stamp >"${KAFKA_HOME}/.complete"
  log "fetched $(find "${LIBS}" -name '*.jar' | wc -l) jars ($(du -sh "${LIBS}" | cut -f1))"
}

classpath() { printf '%s/*' "${LIBS}"; }

# Compile the admin helper once per source hash (javac), else use the source launcher.
admin() {
  local src="${HERE}/KafkaAdmin.java" hash out
  hash="$(sha256sum "${src}" | cut -c1-16)"
  out="${KAFKA_HOME}/admin-${hash}"
  if [[ ! -f "${out}/KafkaAdmin.class" ]] && command -v javac >/dev/null; then
    mkdir -p "${out}.tmp.$$"
    javac -nowarn -d "${out}.tmp.$$" -cp "$(classpath)" "${src}"
    # Another caller may have won the race: keep its copy.
    mv -T "${out}.tmp.$$" "${out}" 2>/dev/null || rm -rf "${out}.tmp.$$"
  fi
  local -a jvm=(java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
    "-Dlog4j2.configurationFile=${HERE}/log4j2-tools.properties")
  if [[ -f "${out}/KafkaAdmin.class" ]]; then
    "${jvm[@]}" -cp "${out}:$(classpath)" KafkaAdmin "$@"
  else
    "${jvm[@]}" -cp "$(classpath)" "${src}" "$@"
  fi
}

# our_pid: print the PID of the broker of this run dir, if it is alive. The PID file is checked
# against the command line (PID reuse); a broker whose PID file was lost is found by its command
# line (it names this run dir's server.properties) and the PID file is rewritten.
our_pid() {
  local pid
  if pid="$(pidfile_alive "${PIDFILE}")" && ps -ww -o args= -p "${pid}" | grep -qF "kafka.Kafka ${CONF}"; then
    printf '%s\n' "${pid}"
    return 0
  fi
  pid="$(find_pid_by_args "kafka.Kafka ${CONF}")" || return 1
  mkdir -p "${RUN}" && printf '%s\n' "${pid}" >"${PIDFILE}"
  printf '%s\n' "${pid}"
}

ready() { port_open "${HOST}" "${PORT}" && admin ready "${BOOTSTRAP}" 5000 >/dev/null 2>&1; }

write_config() {
  mkdir -p "${RUN}/data" "${RUN}/logs"
  cat >"${CONF}" <<EOF
# Generated by deploy/kafka/kafka.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${RUN}/data
# Topics come from scenarist_bus.topics with explicit partition counts, never from a typo.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=268435456
EOF
  cat >"${RUN}/log4j2.properties" <<EOF
# Generated by deploy/kafka/kafka.sh: broker log to ${SERVER_LOG}.
status = warn
appender.server.type = File
appender.server.name = SERVER
appender.server.fileName = ${SERVER_LOG}
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

cmd_up() {
  cmd_fetch
  local pid
  if pid="$(our_pid)"; then
    log "already running (pid ${pid}); waiting until ready"
  else
    if port_open "${HOST}" "${PORT}" || port_open "${HOST}" "${CONTROLLER_PORT}"; then
      die "port ${PORT} or ${CONTROLLER_PORT} on ${HOST} is in use by another process (not started from ${RUN})"
    fi
    write_config
    if [[ ! -f "${RUN}/data/meta.properties" ]]; then
      local cluster_id
      cluster_id="$(new_cluster_id)"
      log "formatting KRaft storage in ${RUN}/data (cluster ${cluster_id})"
      java -Xmx256m "-Dlog4j2.configurationFile=${HERE}/log4j2-tools.properties" -cp "$(classpath)" \
        kafka.tools.StorageTool format --ignore-formatted -t "${cluster_id}" -c "${CONF}" \
        >"${RUN}/logs/format.log" 2>&1 || {
        tail_log "${RUN}/logs/format.log"
        die "storage format failed"
      }
    fi
    log "starting broker on ${BOOTSTRAP} (controller ${HOST}:${CONTROLLER_PORT}, heap ${HEAP})"
    : >"${STDOUT_LOG}"
    # setsid: the broker must outlive the shell (and test runner) that started it.
    setsid java "-Xms${HEAP}" "-Xmx${HEAP}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true ${JVM_OPTS[@]+"${JVM_OPTS[@]}"} \
      "-Dlog4j2.configurationFile=${RUN}/log4j2.properties" "-Dkafka.logs.dir=${RUN}/logs" \
      -cp "$(classpath)" kafka.Kafka "${CONF}" >>"${STDOUT_LOG}" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "${pid}" >"${PIDFILE}"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  until ready; do
    if ! pid_alive "${pid}"; then
      tail_log "${STDOUT_LOG}"
      tail_log "${SERVER_LOG}"
      rm -f "${PIDFILE}"
      die "broker exited during startup (logs in ${RUN}/logs)"
    fi
    if ((SECONDS >= deadline)); then
      tail_log "${SERVER_LOG}"
      die "broker not ready on ${BOOTSTRAP} after ${START_TIMEOUT}s (pid ${pid} left running; 'kafka.sh down' stops it)"
    fi
    sleep 0.5
  done
  log "ready on ${BOOTSTRAP} (pid ${pid})"
}

cmd_down() {
  local pid
  if pid="$(our_pid)"; then
    # A controlled shutdown of a single node takes a few seconds; allow 60 before SIGKILL.
    stop_pid "${pid}" "kafka" 60 TERM
  else
    log "not running"
  fi
  rm -f "${PIDFILE}"
}

cmd_status() {
  local pid
  if pid="$(our_pid)" && ready; then
    log "running (pid ${pid}) on ${BOOTSTRAP}"
  else
    log "not running"
    return 1
  fi
}

# 16 random bytes, base64url without padding: Kafka's Uuid string form. Never one that starts
# with '-' (as Kafka's own Uuid.randomUuid): the storage tool would read it as an option, and
# one format in 64 failed (`--cluster-id/-t: expected one argument`).
new_cluster_id() {
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [[ "${id}" == -* ]] || break
  done
  printf '%s\n' "${id}"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "${cmd}" in
  fetch) cmd_fetch ;;
  # up/down of one run dir are serialised across processes (tests and make may race).
  up) with_lock "${RUN_ROOT}/.kafka.lock" cmd_up ;;
  down) with_lock "${RUN_ROOT}/.kafka.lock" cmd_down ;;
  status) cmd_status ;;
  topics)
    cmd_fetch
    if [[ $# -gt 0 ]]; then
      admin ensure "${BOOTSTRAP}" "$1" "${REPLICATION}"
    else
      # The topic list lives in one place, scenarist_bus.topics; ask it.
      local listed
      listed="$(mktemp)"
      "${REPO_DIR}/.venv/bin/python" -m scenarist_bus.topics list >"${listed}"
      admin ensure "${BOOTSTRAP}" "${listed}" "${REPLICATION}"
      rm -f "${listed}"
    fi
    ;;
  describe)
    cmd_fetch
    admin describe "${BOOTSTRAP}" "$@"
    ;;
  bootstrap) printf '%s\n' "${BOOTSTRAP}" ;;
  cluster-id)
    local i
    for ((i = 0; i < ${1:-1}; i++)); do new_cluster_id; done
    ;;
  classpath)
    cmd_fetch
    classpath
    printf '\n'
    ;;
  run-class)
    [[ $# -ge 1 ]] || die "usage: kafka.sh run-class CLASS [ARGS...]"
    cmd_fetch
    local cls="$1"
    shift
    exec java -Xmx512m "-Dlog4j2.configurationFile=${HERE}/log4j2-tools.properties" \
      -cp "$(classpath)" "${cls}" "$@"
    ;;
  *)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
  esac
}

main "$@"
