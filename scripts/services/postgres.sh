#!/usr/bin/env bash
# Private PostgreSQL 15 cluster (logical decoding + wal2json) for Tessera's tests and local runs.
#
#   scripts/services/postgres.sh start    install if missing, init the cluster once, start (or reuse) it;
#                                         prints `export ...` lines on stdout (logs go to stderr), so:
#   eval "$(scripts/services/postgres.sh env)"     (env = start, for eval)
#   source scripts/services/postgres.sh            (same: starts and exports into the current shell)
#   scripts/services/postgres.sh stop     stop the cluster (data is kept; `start` reuses it)
#   scripts/services/postgres.sh status   exit 0 when the cluster accepts connections
#
# Exports: TESSERA_TEST_PG_URL (postgresql://postgres@127.0.0.1:PORT/tessera_test), TESSERA_PG_HOST,
#          TESSERA_PG_PORT, TESSERA_PG_BIN (server binaries: psql, pg_recvlogical, ...).
# Environment:
#   TESSERA_PG_PORT       TCP port on 127.0.0.1 (default 55432: the machine may run its own on 5432)
#   TESSERA_STATE_DIR     state folder (default <repo>/.state); the cluster lives in <state>/postgres (as root,
#                         when user postgres cannot reach it: /var/tmp/tessera-postgres-<hash of the state folder>)
#   TESSERA_PG_DATABASES  databases to create (default "tessera_test")
#
# Test-only settings: trust auth, fsync=off, loopback only. Never point this at real data.

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: run in a child (no `set -e`/exit in the caller's shell) and import its exports.
  __tessera_pg_out="$(bash "${BASH_SOURCE[0]}" env)" && eval "${__tessera_pg_out}"
  __tessera_pg_rc=$?
  unset __tessera_pg_out
  return "${__tessera_pg_rc}"
fi

set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
WAL2JSON_SO="/usr/lib/postgresql/${PG_VERSION}/lib/wal2json.so"
PORT="${TESSERA_PG_PORT:-55432}"
HOST=127.0.0.1
STATE_DIR="$(tessera_state_dir)"
PG_DIR="${STATE_DIR}/postgres"
# As root the cluster runs as user postgres, which must reach its folder. A state folder below a private one
# (`mktemp -d` makes 0700 folders) is out of its reach: the cluster then lives in /var/tmp, in a folder named
# after the state folder, so each checkout still has a cluster of its own and finds it again.
nearest_existing() { local d="$1"; while [[ ! -e "${d}" ]]; do d="$(dirname "${d}")"; done; echo "${d}"; }
if [[ "$(id -u)" == 0 ]] && ! runuser -u postgres -- test -x "$(nearest_existing "${STATE_DIR}")" 2>/dev/null; then
  PG_DIR="/var/tmp/tessera-postgres-$(printf '%s' "${STATE_DIR}" | sha256sum | cut -c1-16)"
fi
DATA="${PG_DIR}/data"
LOG_FILE="${PG_DIR}/postgres.log"
DATABASES="${TESSERA_PG_DATABASES:-tessera_test}"

log() { tessera_log postgres "$@"; }

# initdb and pg_ctl refuse to run as root: as root, run them as the `postgres` user (created by the
# Debian package) on folders it owns; as anyone else, run them as ourselves.
if [[ "$(id -u)" == 0 ]]; then AS_PG=(runuser -u postgres --); else AS_PG=(); fi
pg_as() { "${AS_PG[@]}" "$@"; }

ensure_installed() {
  if [[ -x "${PG_BIN}/initdb" && -f "${WAL2JSON_SO}" ]]; then return; fi
  tessera_apt_install "postgresql-${PG_VERSION}" "postgresql-${PG_VERSION}-wal2json"
  [[ -x "${PG_BIN}/initdb" && -f "${WAL2JSON_SO}" ]] || { log "install finished but ${PG_BIN}/initdb or ${WAL2JSON_SO} is missing"; exit 1; }
}

# Unix socket paths are limited to ~107 bytes; deep checkouts fall back to a short folder in /tmp.
socket_dir() {
  local dir="${PG_DIR}/run"
  if ((${#dir} + 20 > 100)); then dir="/tmp/tessera-pg-${PORT}"; fi
  echo "${dir}"
}

prepare_dirs() {
  mkdir -p "${PG_DIR}"
  local sock
  sock="$(socket_dir)"
  mkdir -p "${sock}"
  if [[ "$(id -u)" == 0 ]]; then
    chown postgres:postgres "${PG_DIR}" "${sock}"
    if ! runuser -u postgres -- test -w "${PG_DIR}"; then
      log "user postgres cannot write ${PG_DIR}; set TESSERA_STATE_DIR elsewhere"
      exit 1
    fi
  fi
}

running() { [[ -f "${DATA}/PG_VERSION" ]] && pg_as "${PG_BIN}/pg_ctl" -D "${DATA}" status >/dev/null 2>&1; }

# The port a running cluster really listens on (line 4 of postmaster.pid), in case it was started with another.
running_port() { sed -n '4p' "${DATA}/postmaster.pid" 2>/dev/null; }

init_cluster() {
  if [[ -f "${DATA}/PG_VERSION" ]]; then return; fi
  if [[ -e "${DATA}" ]]; then
    log "removing the half-initialized ${DATA}"
    rm -rf "${DATA}"
  fi
  log "initdb ${DATA}"
  pg_as "${PG_BIN}/initdb" -D "${DATA}" -A trust -U postgres -E UTF8 --locale=C --no-sync >>"${LOG_FILE}.initdb" 2>&1 || {
    log "initdb failed:"
    tail -n 20 "${LOG_FILE}.initdb" >&2
    exit 1
  }
}

start_cluster() {
  if "${PG_BIN}/pg_isready" -q -h "${HOST}" -p "${PORT}" -t 1; then
    log "something else already answers on ${HOST}:${PORT}; choose another TESSERA_PG_PORT"
    exit 1
  fi
  local opts="-c port=${PORT} -c listen_addresses=${HOST} -c unix_socket_directories=$(socket_dir)"
  opts+=" -c wal_level=logical -c max_replication_slots=8 -c max_wal_senders=8"
  # The Iceberg JDBC catalogs of Trino and the Spark server pool their connections here beside the tests'.
  opts+=" -c max_connections=300"
  # fsync=off only: synchronous_commit=off would delay what logical decoding can read (it stops at
  # the flushed WAL), so a change committed just now could be missing from pg_logical_slot_get_changes.
  opts+=" -c fsync=off -c full_page_writes=off"
  log "starting on ${HOST}:${PORT} (log ${LOG_FILE})"
  touch "${LOG_FILE}"
  if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "${LOG_FILE}"; fi
  # 9>&-: the server must not inherit the start lock's fd, or it would hold the lock forever.
  if ! pg_as "${PG_BIN}/pg_ctl" -D "${DATA}" -l "${LOG_FILE}" -w -t 60 -o "${opts}" start >/dev/null 9>&-; then
    log "pg_ctl start failed; last lines of ${LOG_FILE}:"
    tail -n 20 "${LOG_FILE}" >&2
    exit 1
  fi
}

create_databases() {
  local db
  for db in ${DATABASES}; do
    if [[ -z "$("${PG_BIN}/psql" -h "${HOST}" -p "${PORT}" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '${db}'")" ]]; then
      log "creating database ${db}"
      "${PG_BIN}/createdb" -h "${HOST}" -p "${PORT}" -U postgres "${db}"
    fi
  done
}

print_env() {
  echo "export TESSERA_PG_HOST=${HOST}"
  echo "export TESSERA_PG_PORT=${PORT}"
  echo "export TESSERA_PG_BIN=${PG_BIN}"
  echo "export TESSERA_TEST_PG_URL=postgresql://postgres@${HOST}:${PORT}/tessera_test"
}

cmd_start() {
  ensure_installed
  prepare_dirs
  # One starter at a time (parallel test setups): the second waits, then finds it running.
  exec 9>"${PG_DIR}/.lock"
  flock 9
  if running; then
    local actual
    actual="$(running_port)"
    if [[ -n "${actual}" && "${actual}" != "${PORT}" ]]; then
      log "cluster in ${DATA} already runs on port ${actual}; reusing that port"
      PORT="${actual}"
    else
      log "reusing the running cluster on ${HOST}:${PORT}"
    fi
  else
    init_cluster
    start_cluster
  fi
  "${PG_BIN}/pg_isready" -q -h "${HOST}" -p "${PORT}" -t 30 || { log "not ready after 30s; see ${LOG_FILE}"; exit 1; }
  create_databases
  print_env
}

cmd_stop() {
  if running; then
    pg_as "${PG_BIN}/pg_ctl" -D "${DATA}" -m fast -w stop >/dev/null
    log "stopped (data kept in ${DATA})"
  else
    log "no cluster running in ${DATA}"
  fi
}

cmd_status() {
  if running; then
    PORT="$(running_port)"
    "${PG_BIN}/pg_isready" -h "${HOST}" -p "${PORT}" -t 2
  else
    log "not running (${DATA})"
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
