#!/usr/bin/env bash
# The main job: BookMyEvent's pipeline on the embedded default (DuckDB warehouse, SQLite ledger, landing-folder
# sources) through a local Temporal dev server with its Web UI. Installs what is missing; safe to run again.
# The Temporal server keeps running afterwards so the runs can be browsed; `bash scripts/services/temporal.sh stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA_STATE_DIR="${TESSERA_STATE_DIR:-$PWD/.state}"
mkdir -p "$TESSERA_STATE_DIR"
bash scripts/setup-node.sh
bash scripts/services/temporal.sh start >&2
export TESSERA_TEMPORAL_ADDRESS="127.0.0.1:${TESSERA_TEMPORAL_PORT:-7233}"
exec node bin/tessera.js demo "$@"
