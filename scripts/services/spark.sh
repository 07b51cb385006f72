#!/usr/bin/env bash
# Spark over the shared Iceberg lakehouse: PyPI pyspark (local[2]) + the Iceberg Spark runtime and the
# PostgreSQL JDBC driver from Maven Central, and our SQL server (scripts/spark/server.py) holding one
# SparkSession for the `spark` engine.
#
#   scripts/services/spark.sh start    install if missing, start (or reuse) the SQL server; prints
#                                      `export ...` lines on stdout (logs go to stderr), so:
#   eval "$(scripts/services/spark.sh env)"     (env = start, for eval)
#   scripts/services/spark.sh stop     stop the SQL server (tables stay in the lakehouse)
#   scripts/services/spark.sh status   exit 0 when the server answers
#
# Exports: TESSERA_SPARK_URL (http://127.0.0.1:PORT, the SQL server), TESSERA_SPARK_SUBMIT (spark-submit),
#          TESSERA_SPARK_PROPERTIES (properties file: catalog, local settings), TESSERA_SPARK_JARS (--jars
#          list), TESSERA_SPARK_PYTHON, JAVA_HOME for jobs; and the lakehouse's TESSERA_LAKEHOUSE_* lines.
# Environment:
#   TESSERA_SPARK_PORT   TCP port on 127.0.0.1 (default 58091)
#   TESSERA_CACHE_DIR    downloads (default ~/.cache/tessera): venv and jars in spark-<versions>/
#   TESSERA_STATE_DIR    state folder (default <repo>/.state): <state>/spark (pid, log, properties)
#
# Catalog: Iceberg JDBC catalog `iceberg` (schema V1) on PostgreSQL database tessera_lakehouse, warehouse
# <state>/lakehouse/warehouse (scripts/services/lakehouse/setup.sh, shared with Trino). Test-only: loopback.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
. "${HERE}/../lib.sh"

PYSPARK_VERSION=4.1.4
ICEBERG_VERSION=1.12.0
PG_JDBC_VERSION=42.7.14
REPO="$(tessera_repo_root)"
CACHE="${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}/spark-${PYSPARK_VERSION}-iceberg-${ICEBERG_VERSION}"
VENV="${CACHE}/venv"
JARS_DIR="${CACHE}/jars"
ICEBERG_JAR="${JARS_DIR}/iceberg-spark-runtime-4.1_2.13-${ICEBERG_VERSION}.jar"
PG_JAR="${JARS_DIR}/postgresql-${PG_JDBC_VERSION}.jar"
PORT="${TESSERA_SPARK_PORT:-58091}"
HOST=127.0.0.1
SPARK_DIR="$(tessera_state_dir)/spark"
PID_FILE="${SPARK_DIR}/server.pid"
LOG_FILE="${SPARK_DIR}/server.log"
PROPS="${SPARK_DIR}/spark.properties"

log() { tessera_log spark "$@"; }

java_home() {
  local j
  for j in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    [[ -x "${j}/bin/java" ]] && { echo "${j}"; return 0; }
  done
  return 1
}

pick_python() {
  local c
  for c in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [[ -n "${c}" ]] && command -v "${c}" >/dev/null 2>&1 || continue
    "${c}" -c 'import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1 && { echo "${c}"; return 0; }
  done
  return 1
}

ensure_installed() {
  java_home >/dev/null || tessera_apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || tessera_apt_install maven
  command -v curl >/dev/null 2>&1 || tessera_apt_install curl
  mkdir -p "${CACHE}"
  # Parallel test setups: one installer at a time, the others find it done.
  exec 8>"${CACHE}/.install.lock"
  flock 8
  if [[ ! -x "${VENV}/bin/spark-submit" ]]; then
    local py
    py="$(pick_python)" || { log "Python 3.10-3.13 with the venv module is needed (set PYTHON=...)"; exit 1; }
    log "installing pyspark==${PYSPARK_VERSION} into ${VENV} (about 450 MB)"
    rm -rf "${VENV}"
    "${py}" -m venv "${VENV}"
    "${VENV}/bin/pip" install --quiet --disable-pip-version-check --no-input "pyspark==${PYSPARK_VERSION}" >&2
  fi
  if [[ ! -f "${ICEBERG_JAR}" || ! -f "${PG_JAR}" ]]; then
    log "fetching the Iceberg Spark runtime ${ICEBERG_VERSION} and PostgreSQL JDBC ${PG_JDBC_VERSION} from Maven Central"
    mkdir -p "${JARS_DIR}"
    mvn -q -B -Dstyle.color=never dependency:copy \
      "-Dartifact=org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:${ICEBERG_VERSION}" -DoutputDirectory="${JARS_DIR}" >&2
    mvn -q -B -Dstyle.color=never dependency:copy \
      "-Dartifact=org.postgresql:postgresql:${PG_JDBC_VERSION}" -DoutputDirectory="${JARS_DIR}" >&2
  fi
  flock -u 8
}

# Settings shared by the SQL server and every job (spark-submit --properties-file).
write_properties() {
  mkdir -p "${SPARK_DIR}"
  cat >"${PROPS}.tmp" <<EOF
spark.master local[2]
spark.driver.memory 2g
spark.driver.host ${HOST}
spark.driver.bindAddress ${HOST}
spark.ui.enabled false
spark.sql.shuffle.partitions 2
spark.sql.session.timeZone UTC
spark.sql.extensions org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions
spark.sql.defaultCatalog iceberg
spark.sql.catalog.iceberg org.apache.iceberg.spark.SparkCatalog
spark.sql.catalog.iceberg.type jdbc
spark.sql.catalog.iceberg.uri ${TESSERA_LAKEHOUSE_JDBC_URL}
spark.sql.catalog.iceberg.jdbc.schema-version V1
spark.sql.catalog.iceberg.warehouse file://${TESSERA_LAKEHOUSE_WAREHOUSE}
spark.sql.catalog.iceberg.table-default.format-version 2
# Every statement sees the newest commit (Trino's, a job's, another session's): no cached table metadata.
spark.sql.catalog.iceberg.cache-enabled false
spark.driver.extraJavaOptions -Duser.timezone=UTC
spark.executorEnv.TZ UTC
EOF
  mv "${PROPS}.tmp" "${PROPS}"
}

running() {
  [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null
}

healthy() { curl -fsS --max-time 5 "http://${HOST}:${PORT}/health" >/dev/null 2>&1; }

print_env() {
  echo "export TESSERA_SPARK_URL=http://${HOST}:${PORT}"
  echo "export TESSERA_SPARK_SUBMIT=${VENV}/bin/spark-submit"
  echo "export TESSERA_SPARK_PYTHON=${VENV}/bin/python"
  echo "export TESSERA_SPARK_PROPERTIES=${PROPS}"
  echo "export TESSERA_SPARK_JARS=${ICEBERG_JAR},${PG_JAR}"
  echo "export TESSERA_SPARK_JAVA_HOME=$(java_home)"
}

cmd_start() {
  ensure_installed
  local lakehouse
  lakehouse="$(bash "${HERE}/lakehouse/setup.sh")"
  eval "${lakehouse}"
  mkdir -p "${SPARK_DIR}"
  exec 9>"${SPARK_DIR}/.lock"
  flock 9
  if running && healthy; then
    log "reusing the SQL server on ${HOST}:${PORT}"
  else
    if running; then
      log "server (pid $(cat "${PID_FILE}")) does not answer; restarting it"
      kill "$(cat "${PID_FILE}")" 2>/dev/null || true
    fi
    if healthy; then
      log "something else already answers on ${HOST}:${PORT}; choose another TESSERA_SPARK_PORT"
      exit 1
    fi
    write_properties
    log "starting the SQL server on ${HOST}:${PORT} (log ${LOG_FILE})"
    local t0=${SECONDS}
    # setsid: its own process group, so `stop` ends the JVM and the Python driver together.
    # 8>&- 9>&-: the server must not inherit the install/start locks.
    JAVA_HOME="$(java_home)" PYSPARK_PYTHON="${VENV}/bin/python" TZ=UTC \
      setsid "${VENV}/bin/spark-submit" --properties-file "${PROPS}" --jars "${ICEBERG_JAR},${PG_JAR}" \
      "${REPO}/scripts/spark/server.py" --port "${PORT}" >"${LOG_FILE}" 2>&1 8>&- 9>&- </dev/null &
    echo $! >"${PID_FILE}"
    until healthy; do
      if ! running; then
        log "the server exited; last lines of ${LOG_FILE}:"
        tail -n 30 "${LOG_FILE}" >&2
        exit 1
      fi
      if ((SECONDS - t0 > 300)); then
        log "not answering after 300 s; see ${LOG_FILE}"
        exit 1
      fi
      sleep 1
    done
    log "ready in $((SECONDS - t0)) s"
  fi
  echo "${lakehouse}"
  print_env
}

cmd_stop() {
  if running; then
    local pid
    pid="$(cat "${PID_FILE}")"
    kill -- "-${pid}" 2>/dev/null || kill "${pid}" 2>/dev/null || true
    while kill -0 "${pid}" 2>/dev/null; do sleep 0.5; done
    rm -f "${PID_FILE}"
    log "stopped"
  else
    log "no SQL server running"
  fi
}

cmd_status() {
  if running && healthy; then
    echo "spark SQL server on ${HOST}:${PORT}"
  else
    log "not running"
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
