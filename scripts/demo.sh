#!/usr/bin/env bash
# The main job: BookMyEvent's pipeline on the embedded default (DuckDB warehouse, SQLite ledger, landing-folder
# sources) through a local Temporal dev server with its Web UI. Installs what is missing; safe to run again.
# `--config config/lakehouse.yaml`: the same on Trino + Spark over Iceberg (docs/lakehouse.md).
# The Temporal server keeps running afterwards so the runs can be browsed; `bash scripts/services/temporal.sh stop`.
#
# `--live`: the simulator writes into real sources and the pipeline reads them back: PostgreSQL 15 with
# wal2json (databases bme_user_db and bme_inventory_db, recreated each run) and a Kafka broker, started here
# like scripts/test.sh does (and left running), with config/live.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA_STATE_DIR="${TESSERA_STATE_DIR:-$PWD/.state}"
mkdir -p "$TESSERA_STATE_DIR"
bash scripts/setup-node.sh
bash scripts/services/temporal.sh start >&2
export TESSERA_TEMPORAL_ADDRESS="127.0.0.1:${TESSERA_TEMPORAL_PORT:-7233}"

global=()
# `--config FILE`: another environment (config/lakehouse.yaml: Trino + Spark over Iceberg, PostgreSQL ledger);
# the servers it names are started here (or reused). `--compare`: first the embedded demo with the same
# options, then this one, then its marts compared value for value with the embedded run's.
config=""
compare=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --config=*) config="${1#--config=}"; shift ;;
    --compare) compare=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- ${args[@]+"${args[@]}"}
if [ -n "$config" ]; then
  [ -f "$config" ] || { echo "demo: config file not found: $config" >&2; exit 2; }
  global=(--config "$config")
  if grep -Eq '^[[:space:]]*type:[[:space:]]*(trino|spark)[[:space:]]*$' "$config"; then
    # Trino's start prepares the lakehouse (PostgreSQL, the JDBC catalog database) and prints its address.
    eval "$(bash scripts/services/postgres.sh start)"
    export TESSERA_LEDGER_URL="${TESSERA_LEDGER_URL:-postgresql://postgres@${TESSERA_PG_HOST:-127.0.0.1}:${TESSERA_PG_PORT:-55432}/tessera_lakehouse}"
    if grep -Eq '^[[:space:]]*type:[[:space:]]*trino[[:space:]]*$' "$config"; then
      eval "$(bash scripts/services/trino.sh start)"
    fi
    if grep -Eq '^[[:space:]]*type:[[:space:]]*spark[[:space:]]*$' "$config"; then
      eval "$(bash scripts/services/spark.sh start)"
    fi
  fi
fi
if [ "$compare" = 1 ]; then
  [ -n "$config" ] || { echo "demo: --compare needs --config (the run to compare with the embedded demo)" >&2; exit 2; }
  node bin/tessera.js demo "$@"
  baseline="$(ls -t "$TESSERA_STATE_DIR"/demo-marts/local-*.json | head -1)"
  exec node bin/tessera.js "${global[@]}" demo "$@" --compare-with "$baseline"
fi
for a in "$@"; do
  if [ "$a" = "--live" ]; then
    # postgres.sh and kafka.sh print `export VAR=...` lines; they reuse a server of this state folder that is
    # already running. Sources given in the environment are used as they are.
    if [ -z "${TESSERA_USER_DB_URL:-}" ] || [ -z "${TESSERA_INVENTORY_DB_URL:-}" ]; then
      eval "$(bash scripts/services/postgres.sh start)"
      pg="postgresql://postgres@${TESSERA_PG_HOST:-127.0.0.1}:${TESSERA_PG_PORT:-55432}"
      export TESSERA_USER_DB_URL="${TESSERA_USER_DB_URL:-$pg/bme_user_db}"
      export TESSERA_INVENTORY_DB_URL="${TESSERA_INVENTORY_DB_URL:-$pg/bme_inventory_db}"
    fi
    if [ -z "${TESSERA_KAFKA_BROKERS:-}" ]; then
      eval "$(bash scripts/services/kafka.sh start)"
      export TESSERA_KAFKA_BROKERS="${TESSERA_TEST_KAFKA_BROKERS:-127.0.0.1:59092}"
    fi
    global=(--config "${TESSERA_CONFIG:-config/live.yaml}")
  fi
done
exec node bin/tessera.js "${global[@]}" demo "$@"
