#!/usr/bin/env bash
# Single-node Apache Kafka 3.9 (KRaft, broker+controller in one JVM) for Tessera's tests and local runs.
#
#   scripts/services/kafka.sh start    fetch the jars once, format storage once, start (or reuse) the broker;
#                                      prints `export ...` lines on stdout (logs go to stderr), so:
#   eval "$(bash scripts/services/kafka.sh start)"
#   scripts/services/kafka.sh stop     stop the broker this script started (data is kept)
#   scripts/services/kafka.sh status   exit 0 when the broker is running and serving
#
# Exports: TESSERA_TEST_KAFKA_BROKERS (127.0.0.1:PORT).
# Environment:
#   TESSERA_KAFKA_PORT    client port on 127.0.0.1 (default 59092); the controller uses PORT+1
#   TESSERA_STATE_DIR     state folder (default <repo>/.state); the broker lives in <state>/kafka
#   TESSERA_KAFKA_HEAP    JVM heap (default 512m)
#   TESSERA_KAFKA_WAIT    seconds to wait for the broker (default 90)
#
# The jars come from Maven Central (scripts/kafka/pom.xml, `mvn dependency:copy-dependencies`) into
# the per-user cache (<cache>/kafka-<version>/libs, see tessera_cache_dir); there is no Kafka in Debian. Test-only settings: loopback, no auth,
# every replication factor 1.
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

REPO="$(tessera_repo_root)"
PORT="${TESSERA_KAFKA_PORT:-59092}"
CONTROLLER_PORT="$((PORT + 1))"
HOST=127.0.0.1
HEAP="${TESSERA_KAFKA_HEAP:-512m}"
WAIT_SECONDS="${TESSERA_KAFKA_WAIT:-90}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "${REPO}/scripts/kafka/pom.xml")"
LIBS="$(tessera_cache_dir)/kafka-${KAFKA_VERSION}/libs"
STATE_DIR="$(tessera_state_dir)"
KAFKA_DIR="${STATE_DIR}/kafka"
DATA="${KAFKA_DIR}/data"
CONFIG="${KAFKA_DIR}/server.properties"
LOG4J="${KAFKA_DIR}/log4j.properties"
PID_FILE="${KAFKA_DIR}/kafka.pid"
LOG_FILE="${KAFKA_DIR}/kafka.log"

log() { tessera_log kafka "$@"; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
    echo "${JAVA_HOME}/bin/java"
  else
    command -v java
  fi
}

ensure_tools() {
  local missing=()
  java_bin >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if ((${#missing[@]})); then tessera_apt_install "${missing[@]}"; fi
}

# Jars are fetched into a temporary folder and renamed into place, so an interrupted download never
# leaves a half-filled libs folder that would be taken as complete.
ensure_libs() {
  if compgen -G "${LIBS}/kafka_2.13-*.jar" >/dev/null; then return; fi
  ensure_tools
  local tmp="${LIBS}.tmp.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  log "fetching Kafka jars from Maven Central into ${LIBS}"
  mvn -q -B -Dstyle.color=never -f "${REPO}/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="${tmp}" >&2
  compgen -G "${tmp}/kafka_2.13-*.jar" >/dev/null || { log "mvn finished but no kafka_2.13 jar in ${tmp}"; exit 1; }
  # Clones share the cache: another one may have finished first.
  if compgen -G "${LIBS}/kafka_2.13-*.jar" >/dev/null; then
    rm -rf "${tmp}"
  else
    rm -rf "${LIBS}"
    mv -T "${tmp}" "${LIBS}"
  fi
}

write_config() {
  mkdir -p "${DATA}"
  cat >"${CONFIG}" <<EOF
# Written by scripts/services/kafka.sh: single-node KRaft (combined mode), loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${DATA}
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
# Consumers in tests join a fresh group every time: do not wait 3 s for more members.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=168
log.segment.bytes=67108864
EOF
  # Only warnings, plus the broker's state transitions (what `start` waits for).
  cat >"${LOG4J}" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
EOF
}

# Formatting writes meta.properties with a cluster id; done once per state folder.
format_storage() {
  if [[ -f "${DATA}/meta.properties" ]]; then return; fi
  local cluster_id
  # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  log "formatting ${DATA} (cluster ${cluster_id})"
  "$(java_bin)" -cp "${LIBS}/*" -Dlog4j.configuration="file:${LOG4J}" kafka.tools.StorageTool format \
    -t "${cluster_id}" -c "${CONFIG}" --ignore-formatted >&2
}

pid_alive() { [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null; }

# Serving = our JVM is alive, it logged the broker's transition to STARTED, and the port accepts.
serving() {
  pid_alive && grep -q "Transition from STARTING to STARTED" "${LOG_FILE}" 2>/dev/null && port_open
}

start_broker() {
  if port_open; then
    log "something else already listens on ${HOST}:${PORT}; choose another TESSERA_KAFKA_PORT"
    exit 1
  fi
  log "starting on ${HOST}:${PORT} (log ${LOG_FILE})"
  : >"${LOG_FILE}"
  # setsid: the broker must outlive the shell (and test runner) that started it. 9>&-: do not
  # inherit the start lock.
  setsid "$(java_bin)" "-Xmx${HEAP}" "-Xms${HEAP}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:${LOG4J}" \
    -cp "${LIBS}/*" kafka.Kafka "${CONFIG}" >>"${LOG_FILE}" 2>&1 9>&- </dev/null &
  echo $! >"${PID_FILE}"
  local waited=0
  until serving; do
    if ! pid_alive; then
      log "the broker exited; last lines of ${LOG_FILE}:"
      tail -n 30 "${LOG_FILE}" >&2
      exit 1
    fi
    if ((waited >= WAIT_SECONDS * 2)); then
      log "not serving after ${WAIT_SECONDS}s; see ${LOG_FILE}"
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  log "serving on ${HOST}:${PORT}"
}

cmd_start() {
  mkdir -p "${KAFKA_DIR}"
  # One starter at a time (parallel test setups): the second waits, then finds it running.
  exec 9>"${KAFKA_DIR}/.lock"
  flock 9
  if serving; then
    log "reusing the running broker on ${HOST}:${PORT} (pid $(cat "${PID_FILE}"))"
  else
    if pid_alive; then
      log "stopping an unhealthy broker (pid $(cat "${PID_FILE}"))"
      cmd_stop
    fi
    ensure_libs
    write_config
    format_storage
    start_broker
  fi
  echo "export TESSERA_TEST_KAFKA_BROKERS=${HOST}:${PORT}"
}

cmd_stop() {
  if ! pid_alive; then
    log "no broker running (${PID_FILE})"
    rm -f "${PID_FILE}"
    return 0
  fi
  local pid
  pid="$(cat "${PID_FILE}")"
  kill -TERM "${pid}"
  for _ in $(seq 1 60); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "broker ${pid} ignored TERM for 30s; killing it"
    kill -KILL "${pid}"
  fi
  rm -f "${PID_FILE}"
  log "stopped (data kept in ${DATA})"
}

cmd_status() {
  if serving; then
    log "serving on ${HOST}:${PORT} (pid $(cat "${PID_FILE}"))"
  else
    log "not serving"
    return 1
  fi
}

case "${1:-start}" in
  start | env) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    log "usage: $0 [start|env|stop|status]"
    exit 2
    ;;
esac
