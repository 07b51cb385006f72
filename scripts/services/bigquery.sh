#!/usr/bin/env bash
# BigQuery emulator (github.com/goccy/bigquery-emulator) for Tessera's BigQuery engine tests.
#
#   scripts/services/bigquery.sh start    build the emulator once (cached), start (or reuse) it;
#                                         prints `export ...` lines on stdout (logs go to stderr), so:
#   eval "$(bash scripts/services/bigquery.sh start)"      (env = start, for eval)
#   scripts/services/bigquery.sh stop     stop the emulator this script started (it keeps no data)
#   scripts/services/bigquery.sh status   exit 0 when the emulator is running and answering
#   scripts/services/bigquery.sh bin      build the emulator once (cached) and print only the export of
#                                         TESSERA_BQ_EMULATOR_BIN: the tests start private emulators from it
#
# Exports: TESSERA_BQ_EMULATOR_URL (http://127.0.0.1:PORT), TESSERA_BQ_EMULATOR_PROJECT, and
#          TESSERA_BQ_EMULATOR_BIN: the conformance suite starts a private emulator from it per test (an empty
#          warehouse each time: emptying a shared one is no option, a DROP TABLE takes the emulator 6-10 s, and
#          a project per test slows every query, as its cost grows with the number of projects).
# Environment:
#   TESSERA_BQ_PORT       REST port on 127.0.0.1 (default 59050); the gRPC (Storage API) port is PORT+10
#   TESSERA_BQ_PROJECT    emulated project id (default "test"); the projects "test-engine" and "test-plan"
#                         exist too (one per test file that needs a fixed project)
#   TESSERA_STATE_DIR     state folder (default <repo>/.state); pid and log live in <state>/bigquery
#   TESSERA_CACHE_DIR     download/build cache (default ~/.cache/tessera); the binary is
#                         <cache>/bigquery-emulator-<version>/bigquery-emulator
#   TESSERA_BQ_WAIT       seconds to wait for the emulator to answer (default 60)
#
# No release binary comes from an allowed registry, so the emulator is built from the Go module proxy:
# `go install …@v0.8.1` fails (the proxy refuses version lists), so a scratch module requires the
# version, `go mod tidy` resolves it and `go build` builds the command (about 9 minutes on 2 busy cores,
# a ~270 MB binary). Without a Go >= 1.21 on the machine (Debian bookworm ships 1.19), the Go toolchain
# itself comes from the proxy as the module golang.org/toolchain. Storage is in memory: a restart
# forgets every dataset. Test-only: no authentication, loopback only.
set -euo pipefail
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

VERSION=0.8.1
GO_TOOLCHAIN_VERSION=1.25.0
HOST=127.0.0.1
PORT="${TESSERA_BQ_PORT:-59050}"
GRPC_PORT="$((PORT + 10))"
PROJECT="${TESSERA_BQ_PROJECT:-test}"
WAIT_SECONDS="${TESSERA_BQ_WAIT:-60}"
CACHE_ROOT="${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}"
BUILD_DIR="${CACHE_ROOT}/bigquery-emulator-${VERSION}"
BIN="${BUILD_DIR}/bigquery-emulator"
STATE_DIR="$(tessera_state_dir)"
BQ_DIR="${STATE_DIR}/bigquery"
PID_FILE="${BQ_DIR}/emulator.pid"
LOG_FILE="${BQ_DIR}/emulator.log"

log() { tessera_log bigquery "$@"; }

# A `go` of version >= 1.21 (it fetches the toolchain go.mod asks for by itself), else one from the proxy.
go_bin() {
  local candidate version
  for candidate in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
    [[ -n "${candidate}" && -x "${candidate}" ]] || continue
    version="$("${candidate}" env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8
    if [[ "${version}" =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
      echo "${candidate}"
      return
    fi
  done
  local dir="${CACHE_ROOT}/go-toolchain-${GO_TOOLCHAIN_VERSION}"
  local mod="golang.org/toolchain@v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-amd64"
  if [[ ! -x "${dir}/${mod}/bin/go" ]]; then
    command -v unzip >/dev/null 2>&1 || tessera_apt_install unzip
    command -v curl >/dev/null 2>&1 || tessera_apt_install curl ca-certificates
    log "fetching the Go ${GO_TOOLCHAIN_VERSION} toolchain from the Go module proxy into ${dir}"
    local tmp="${dir}.tmp.$$"
    rm -rf "${tmp}"
    mkdir -p "${tmp}"
    curl -fsSL --retry 3 -o "${tmp}/toolchain.zip" \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-amd64.zip"
    unzip -q "${tmp}/toolchain.zip" -d "${tmp}"
    rm -f "${tmp}/toolchain.zip"
    chmod +x "${tmp}/${mod}/bin/"* "${tmp}/${mod}/pkg/tool/"*/* 2>/dev/null || true
    rm -rf "${dir}"
    mv "${tmp}" "${dir}"
  fi
  echo "${dir}/${mod}/bin/go"
}

# Builds into a temporary name and renames, so an interrupted build never leaves a binary taken as complete.
# One builder at a time (parallel test setups): the second waits on the lock, then finds the binary.
ensure_binary() {
  if [[ -x "${BIN}" ]]; then return; fi
  mkdir -p "${BUILD_DIR}"
  exec 8>"${BUILD_DIR}/.build.lock"
  flock 8
  if [[ -x "${BIN}" ]]; then return; fi
  local go src
  go="$(go_bin)"
  src="${BUILD_DIR}/src"
  mkdir -p "${src}"
  log "building bigquery-emulator v${VERSION} with $("${go}" env GOVERSION) (about 10 minutes; log ${src}/build.log)"
  cat >"${src}/go.mod" <<EOF
module tessera.local/bqemu

go 1.25.0

require github.com/goccy/bigquery-emulator v${VERSION}
EOF
  cat >"${src}/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"
EOF
  rm -f "${src}/go.sum"
  (
    cd "${src}"
    export GOFLAGS=-mod=mod GOTOOLCHAIN=auto
    "${go}" mod tidy >"${src}/tidy.log" 2>&1 || { tail -n 20 "${src}/tidy.log" >&2; exit 1; }
    "${go}" build -o "${BIN}.tmp" "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator" \
      >"${src}/build.log" 2>&1 || { tail -n 20 "${src}/build.log" >&2; exit 1; }
  ) || { log "build failed (see ${src}/tidy.log and ${src}/build.log)"; exit 1; }
  mv "${BIN}.tmp" "${BIN}"
  log "built ${BIN}"
}

pid_alive() { [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null; }

answering() {
  curl -fs -o /dev/null --max-time 5 "http://${HOST}:${PORT}/bigquery/v2/projects/${PROJECT}/datasets"
}

serving() { pid_alive && answering; }

start_emulator() {
  if answering || (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null; then
    log "something else already listens on ${HOST}:${PORT}; choose another TESSERA_BQ_PORT"
    exit 1
  fi
  log "starting on ${HOST}:${PORT} (gRPC ${GRPC_PORT}, project ${PROJECT}, log ${LOG_FILE})"
  : >"${LOG_FILE}"
  local p
  {
    echo "projects:"
    # The loader wants at least one dataset per project.
    for p in "${PROJECT}" test-engine test-plan; do
      printf '  - id: %s\n    datasets:\n      - id: tessera_seed\n' "${p}"
    done
  } >"${BQ_DIR}/projects.yaml"
  # setsid: the emulator must outlive the shell (and test runner) that started it. 8>&- 9>&-: do not
  # inherit the locks.
  setsid "${BIN}" --project="${PROJECT}" --host="${HOST}" --port="${PORT}" --grpc-port="${GRPC_PORT}" \
    --data-from-yaml="${BQ_DIR}/projects.yaml" --log-level=warn >>"${LOG_FILE}" 2>&1 8>&- 9>&- </dev/null &
  echo $! >"${PID_FILE}"
  local waited=0
  until answering; do
    if ! pid_alive; then
      log "the emulator exited; last lines of ${LOG_FILE}:"
      tail -n 30 "${LOG_FILE}" >&2
      exit 1
    fi
    if ((waited >= WAIT_SECONDS * 2)); then
      log "not answering after ${WAIT_SECONDS}s; see ${LOG_FILE}"
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  log "serving on ${HOST}:${PORT}"
}

cmd_start() {
  ensure_binary
  mkdir -p "${BQ_DIR}"
  exec 9>"${BQ_DIR}/.lock"
  flock 9
  if serving; then
    log "reusing the running emulator on ${HOST}:${PORT} (pid $(cat "${PID_FILE}"))"
  else
    if pid_alive; then
      log "stopping an unhealthy emulator (pid $(cat "${PID_FILE}"))"
      cmd_stop
    fi
    start_emulator
  fi
  echo "export TESSERA_BQ_EMULATOR_URL=http://${HOST}:${PORT}"
  echo "export TESSERA_BQ_EMULATOR_PROJECT=${PROJECT}"
  echo "export TESSERA_BQ_EMULATOR_BIN=${BIN}"
}

cmd_stop() {
  if ! pid_alive; then
    log "no emulator running (${PID_FILE})"
    rm -f "${PID_FILE}"
    return 0
  fi
  local pid
  pid="$(cat "${PID_FILE}")"
  kill -TERM "${pid}"
  for _ in $(seq 1 40); do
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "${pid}" 2>/dev/null; then
    log "emulator ${pid} ignored TERM for 20s; killing it"
    kill -KILL "${pid}"
  fi
  rm -f "${PID_FILE}"
  log "stopped"
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
  build) ensure_binary ;;
  bin)
    ensure_binary
    echo "export TESSERA_BQ_EMULATOR_BIN=${BIN}"
    ;;
  *)
    log "usage: $0 [start|env|stop|status|build|bin]"
    exit 2
    ;;
esac
