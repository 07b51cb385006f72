#!/usr/bin/env bash
# The shared lakehouse: an Iceberg JDBC catalog (schema V1) in PostgreSQL database tessera_lakehouse on
# the test cluster (scripts/services/postgres.sh), warehouse files under <state>/lakehouse/warehouse.
# Trino (scripts/services/trino.sh) and Spark use the same catalog name, `iceberg`, so they share tables.
#
#   bash scripts/services/lakehouse/setup.sh    starts/reuses PostgreSQL, creates the database and the
#                                               catalog tables if missing; prints `export ...` lines:
# Exports: TESSERA_LAKEHOUSE_JDBC_URL (jdbc:postgresql://127.0.0.1:PORT/tessera_lakehouse?user=postgres),
#          TESSERA_LAKEHOUSE_WAREHOUSE (absolute folder), TESSERA_LAKEHOUSE_PG_URL (postgresql:// form).
# Idempotent and safe to run concurrently (PostgreSQL's start lock; CREATE ... IF NOT EXISTS).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../lib.sh
. "${HERE}/../../lib.sh"

DB=tessera_lakehouse
log() { tessera_log lakehouse "$@"; }

eval "$(bash "${HERE}/../postgres.sh" start)"
export PGOPTIONS="-c client_min_messages=warning"
PSQL=("${TESSERA_PG_BIN}/psql" -h "${TESSERA_PG_HOST}" -p "${TESSERA_PG_PORT}" -U postgres -v ON_ERROR_STOP=1 -qX)

if [[ -z "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" ]]; then
  log "creating database ${DB}"
  # Two setups racing: the loser's CREATE fails with 'already exists', which is what we wanted.
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE ${DB}" >&2 2>/dev/null ||
    [[ -n "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" ]]
fi
"${PSQL[@]}" -d "${DB}" -f "${HERE}/jdbc-catalog.sql" >&2

WAREHOUSE="$(tessera_state_dir)/lakehouse/warehouse"
mkdir -p "${WAREHOUSE}"
WAREHOUSE="$(cd "${WAREHOUSE}" && pwd)"

echo "export TESSERA_LAKEHOUSE_JDBC_URL='jdbc:postgresql://${TESSERA_PG_HOST}:${TESSERA_PG_PORT}/${DB}?user=postgres'"
echo "export TESSERA_LAKEHOUSE_PG_URL=postgresql://postgres@${TESSERA_PG_HOST}:${TESSERA_PG_PORT}/${DB}"
echo "export TESSERA_LAKEHOUSE_WAREHOUSE=${WAREHOUSE}"
