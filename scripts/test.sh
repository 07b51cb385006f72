#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs npm and PyPI packages, starts real services
# (PostgreSQL with logical decoding, a Temporal dev server), then lint, typecheck and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA_STATE_DIR="${TESSERA_STATE_DIR:-$PWD/.state}"
mkdir -p "$TESSERA_STATE_DIR"

bash scripts/setup-node.sh
bash scripts/python-venv.sh

started=()
cleanup() {
  for s in "${started[@]}"; do bash "scripts/services/$s.sh" stop >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# Services already running (a developer's) are reused and left running; the ones started here stop at exit.
running() { bash "scripts/services/$1.sh" status >/dev/null 2>&1; }
# postgres and kafka print `export VAR=...` lines for the tests; temporal prints its addresses.
for s in postgres kafka; do
  running "$s" || started+=("$s")
  eval "$(bash "scripts/services/$s.sh" start)"
done
running temporal || started+=(temporal)
bash scripts/services/temporal.sh start --headless >&2
export TESSERA_TEMPORAL_ADDRESS="127.0.0.1:${TESSERA_TEMPORAL_PORT:-7233}"

echo "[test] lint"
npx eslint --max-warnings=0 .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit

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
