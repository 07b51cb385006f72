#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs npm and PyPI packages, starts real services
# (PostgreSQL with logical decoding, Kafka, a Temporal dev server, and the engines' servers: Trino over
# Iceberg, Spark over Iceberg, the BigQuery emulator), then lint, typecheck and every test.
#
# TESSERA_TEST_ENGINES picks the engine servers (default "trino spark bigquery"; "" runs DuckDB only). Their
# downloads and builds are cached per user under ${TESSERA_CACHE_DIR:-~/.cache/tessera}, keyed by version.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA_STATE_DIR="${TESSERA_STATE_DIR:-$PWD/.state}"
mkdir -p "$TESSERA_STATE_DIR"
ENGINE_SERVERS="${TESSERA_TEST_ENGINES-trino spark bigquery}"

bash scripts/setup-node.sh
bash scripts/python-venv.sh
# The web UI's tests drive Debian's Chromium (browser downloads fail here).
# shellcheck source=lib.sh
. scripts/lib.sh
command -v chromium >/dev/null 2>&1 || tessera_apt_install chromium

started=()
cleanup() {
  for s in "${started[@]}"; do bash "scripts/services/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Services already running (a developer's) are reused and left running; the ones started here stop at exit.
running() { bash "scripts/services/$1.sh" status >/dev/null 2>&1; }
# postgres and kafka print `export VAR=...` lines for the tests; temporal prints its addresses.
# (Output captured first: `eval "$(cmd)"` would swallow a failing start.)
for s in postgres kafka; do
  running "$s" || started+=("$s")
  exports=$(bash "scripts/services/$s.sh" start)
  eval "$exports"
done
running temporal || started+=(temporal)
bash scripts/services/temporal.sh start --headless >&2
export TESSERA_TEMPORAL_ADDRESS="127.0.0.1:${TESSERA_TEMPORAL_PORT:-7233}"

# The engine servers take minutes on a fresh machine (downloads, the emulator's build) and seconds after:
# they start in the background while lint and typecheck run, each once per test run.
# BigQuery's tests start a private emulator each (a shared one slows with every project): they need the binary only.
declare -A engine_pid=()
for s in $ENGINE_SERVERS; do
  if [[ "$s" == bigquery ]]; then
    cmd=bin
  else
    cmd=start
    running "$s" || started+=("$s")
  fi
  bash "scripts/services/$s.sh" "$cmd" >"$TESSERA_STATE_DIR/$s.env" 2>"$TESSERA_STATE_DIR/$s.start.log" &
  engine_pid[$s]=$!
done

echo "[test] lint"
npx eslint --max-warnings=0 .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
npx tsc -p src/ui/web/tsconfig.json --noEmit

for s in $ENGINE_SERVERS; do
  if ! wait "${engine_pid[$s]}"; then
    echo "[test] $s did not start:" >&2
    tail -n 50 "$TESSERA_STATE_DIR/$s.start.log" >&2
    exit 1
  fi
  eval "$(cat "$TESSERA_STATE_DIR/$s.env")"
  echo "[test] $s up"
done

echo "[test] vitest"
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$TESSERA_STATE_DIR/vitest.json" "$@" || status=$?
# The closing line CI reads: 'N passed, N failed, N skipped'.
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$TESSERA_STATE_DIR/vitest.json" || true
exit $status
