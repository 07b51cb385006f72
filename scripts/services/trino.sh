#!/usr/bin/env bash
# Trino 476 (single node: coordinator + worker) with the Iceberg connector on the shared lakehouse
# (an Iceberg JDBC catalog in PostgreSQL, warehouse on the local filesystem; see lakehouse/setup.sh).
#
#   bash scripts/services/trino.sh start    fetch the server once (Maven Central), unpack it once into
#                                           the cache, start (or reuse) it; prints `export ...` lines on
#                                           stdout (logs go to stderr), so:
#   eval "$(bash scripts/services/trino.sh start)"     (env = start)
#   bash scripts/services/trino.sh stop     stop the server this script started
#   bash scripts/services/trino.sh status   exit 0 when the server is up and not starting
#
# Exports: TESSERA_TRINO_URL (http://127.0.0.1:PORT), TESSERA_TRINO_CATALOG (iceberg), and the
#          lakehouse's TESSERA_LAKEHOUSE_JDBC_URL, TESSERA_LAKEHOUSE_PG_URL, TESSERA_LAKEHOUSE_WAREHOUSE.
# Environment:
#   TESSERA_TRINO_PORT    HTTP port on 127.0.0.1 (default 58080)
#   TESSERA_TRINO_HEAP    JVM heap (default 2G)
#   TESSERA_TRINO_WAIT    seconds to wait for the server (default 180)
#   TESSERA_CACHE_DIR     download cache (default ~/.cache/tessera); the server lives in <cache>/trino-476
#   TESSERA_STATE_DIR     state folder (default <repo>/.state); node data in <state>/trino
#
# Needs Java 24+ (Trino 476): JAVA_HOME if it is one, else /usr/lib/jvm/temurin-25-jdk-amd64.
# Test-only settings: loopback, no authentication.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
. "${HERE}/../lib.sh"

VERSION=476
PORT="${TESSERA_TRINO_PORT:-58080}"
HOST=127.0.0.1
HEAP="${TESSERA_TRINO_HEAP:-2G}"
WAIT_SECONDS="${TESSERA_TRINO_WAIT:-180}"
CACHE="${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}/trino-${VERSION}"
TARBALL="${CACHE}/trino-server-${VERSION}.tar.gz"
SERVER="${CACHE}/server"
# Plugins kept after unpacking: fewer plugins, faster start (about 12 s instead of a minute).
PLUGINS=(iceberg memory)
STATE_DIR="$(tessera_state_dir)"
TRINO_DIR="${STATE_DIR}/trino"
ETC="${TRINO_DIR}/etc"
PID_FILE="${TRINO_DIR}/trino.pid"
LOG_FILE="${TRINO_DIR}/trino.log"

log() { tessera_log trino "$@"; }

java_home() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-24-jdk-amd64; do
    [[ -n "${candidate}" && -x "${candidate}/bin/java" ]] || continue
    local major
    major="$("${candidate}/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if [[ "${major%%.*}" -ge 24 ]]; then
      echo "${candidate}"
      return
    fi
  done
  log "Trino ${VERSION} needs Java 24 or newer: set JAVA_HOME (Debian has no such JDK; e.g. Temurin 25)"
  exit 1
}

# The tarball comes from Maven Central through mvn, into a temporary name renamed when complete.
ensure_tarball() {
  if [[ -s "${TARBALL}" ]]; then return; fi
  command -v mvn >/dev/null 2>&1 || tessera_apt_install maven
  mkdir -p "${CACHE}"
  local tmp="${CACHE}/download.$$"
  rm -rf "${tmp}"
  log "fetching io.trino:trino-server:${VERSION}:tar.gz from Maven Central (about 820 MB)"
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="io.trino:trino-server:${VERSION}:tar.gz" \
    -DoutputDirectory="${tmp}" >&2
  [[ -s "${tmp}/trino-server-${VERSION}.tar.gz" ]] || { log "mvn finished but no tarball in ${tmp}"; exit 1; }
  mv "${tmp}/trino-server-${VERSION}.tar.gz" "${TARBALL}"
  rm -rf "${tmp}"
}

# Unpacked once (into a temporary folder renamed when complete), keeping only the plugins we use.
ensure_server() {
  command -v curl >/dev/null 2>&1 || tessera_apt_install curl
  if [[ -x "${SERVER}/bin/launcher" ]]; then return; fi
  ensure_tarball
  local tmp="${CACHE}/unpack.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  log "unpacking ${TARBALL}"
  tar -xzf "${TARBALL}" -C "${tmp}"
  local root="${tmp}/trino-server-${VERSION}" plugin keep name
  for plugin in "${root}"/plugin/*; do
    name="$(basename "${plugin}")"
    keep=false
    for wanted in "${PLUGINS[@]}"; do [[ "${name}" == "${wanted}" ]] && keep=true; done
    "${keep}" || rm -rf "${plugin}"
  done
  rm -rf "${SERVER}"
  mv "${root}" "${SERVER}"
  rm -rf "${tmp}"
}

write_config() {
  mkdir -p "${ETC}/catalog" "${TRINO_DIR}/data"
  # Throwaway catalogs a test run did not drop (it was killed): gone at the next start.
  rm -f "${ETC}"/catalog/tessera_t_*.properties
  # Node id: stable per state folder.
  cat >"${ETC}/node.properties" <<CONF
node.environment=tessera_test
node.id=tessera-$(printf '%s' "${TRINO_DIR}" | md5sum | cut -c1-12)
node.data-dir=${TRINO_DIR}/data
CONF
  cat >"${ETC}/jvm.config" <<CONF
-server
-Xmx${HEAP}
-XX:+UseG1GC
-XX:G1HeapRegionSize=32M
-XX:+ExplicitGCInvokesConcurrent
-XX:+ExitOnOutOfMemoryError
-Djdk.attach.allowAttachSelf=true
-XX:+EnableDynamicAgentLoading
-Dfile.encoding=UTF-8
CONF
  cat >"${ETC}/config.properties" <<CONF
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=${PORT}
node.internal-address=${HOST}
discovery.uri=http://${HOST}:${PORT}
query.max-memory=1GB
query.max-memory-per-node=1GB
# CREATE/DROP CATALOG: the conformance suite gives each test engine a throwaway Iceberg catalog.
catalog.management=dynamic
# Two busy cores: few threads, small queues.
task.concurrency=2
task.max-worker-threads=4
CONF
  cat >"${ETC}/log.properties" <<CONF
io.trino=WARN
io.trino.server.Server=INFO
CONF
  cat >"${ETC}/catalog/iceberg.properties" <<CONF
connector.name=iceberg
iceberg.catalog.type=jdbc
iceberg.jdbc-catalog.catalog-name=iceberg
iceberg.jdbc-catalog.driver-class=org.postgresql.Driver
iceberg.jdbc-catalog.connection-url=${TESSERA_LAKEHOUSE_JDBC_URL}
# file:// rather than local://: Spark's Hadoop file system opens file:// locations only, and Trino reads both.
iceberg.jdbc-catalog.default-warehouse-dir=file://${TESSERA_LAKEHOUSE_WAREHOUSE}
iceberg.jdbc-catalog.schema-version=V1
fs.native-local.enabled=true
local.location=/
CONF
  cat >"${ETC}/catalog/memory.properties" <<CONF
connector.name=memory
# Staging of the Trino engine's writes (one operation's select at a time).
memory.max-data-per-node=512MB
CONF
}

pid_alive() { [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null; }

# `"starting":false` from /v1/info: the server accepts queries.
ready() {
  local info
  info="$(curl -fsS --max-time 2 "http://${HOST}:${PORT}/v1/info" 2>/dev/null)" || return 1
  [[ "${info}" == *'"starting":false'* ]]
}

port_open() { (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null; }

start_server() {
  if port_open; then
    log "something else already listens on ${HOST}:${PORT}; choose another TESSERA_TRINO_PORT"
    exit 1
  fi
  local jh
  jh="$(java_home)"
  log "starting on ${HOST}:${PORT} (log ${LOG_FILE})"
  : >"${LOG_FILE}"
  # setsid: the server must outlive the shell that started it; 9>&-: do not inherit the start lock.
  (
    # Trino wants >= 4096 open files (8192 recommended): raise the soft limit to the hard one.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    export JAVA_HOME="${jh}" PATH="${jh}/bin:${PATH}"
    exec setsid "${SERVER}/bin/launcher" run --etc-dir="${ETC}" --data-dir="${TRINO_DIR}/data" \
      >>"${LOG_FILE}" 2>&1 9>&- </dev/null
  ) &
  echo $! >"${PID_FILE}"
  local waited=0
  until ready; do
    if ! pid_alive; then
      log "the server exited; last lines of ${LOG_FILE}:"
      tail -n 40 "${LOG_FILE}" >&2
      exit 1
    fi
    if ((waited >= WAIT_SECONDS * 2)); then
      log "not ready after ${WAIT_SECONDS}s; see ${LOG_FILE}"
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  log "ready on ${HOST}:${PORT}"
}

print_env() {
  echo "export TESSERA_TRINO_URL=http://${HOST}:${PORT}"
  echo "export TESSERA_TRINO_CATALOG=iceberg"
  echo "export TESSERA_LAKEHOUSE_JDBC_URL='${TESSERA_LAKEHOUSE_JDBC_URL}'"
  echo "export TESSERA_LAKEHOUSE_PG_URL=${TESSERA_LAKEHOUSE_PG_URL}"
  echo "export TESSERA_LAKEHOUSE_WAREHOUSE=${TESSERA_LAKEHOUSE_WAREHOUSE}"
}

cmd_start() {
  mkdir -p "${TRINO_DIR}"
  # The lakehouse first (it starts PostgreSQL): its exports go into the catalog config.
  eval "$(bash "${HERE}/lakehouse/setup.sh")"
  # One starter at a time (parallel test setups): the second waits, then finds it running.
  exec 9>"${TRINO_DIR}/.lock"
  flock 9
  if pid_alive && ready; then
    log "reusing the running server on ${HOST}:${PORT} (pid $(cat "${PID_FILE}"))"
  else
    if pid_alive; then
      log "stopping an unhealthy server (pid $(cat "${PID_FILE}"))"
      cmd_stop
    fi
    ensure_server
    write_config
    start_server
  fi
  print_env
}

cmd_stop() {
  if ! pid_alive; then
    log "no server running (${PID_FILE})"
    rm -f "${PID_FILE}"
    return 0
  fi
  local pid
  pid="$(cat "${PID_FILE}")"
  # The launcher runs as the session leader (setsid): TERM the whole session's process group.
  kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}"
  for _ in $(seq 1 60); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "server ${pid} ignored TERM for 30s; killing it"
    kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "${pid}"
  fi
  rm -f "${PID_FILE}"
  log "stopped"
}

cmd_status() {
  if pid_alive && ready; then
    log "ready on ${HOST}:${PORT} (pid $(cat "${PID_FILE}"))"
  else
    log "not ready"
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
