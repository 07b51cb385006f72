#!/usr/bin/env bash
# Tessera side by side with its peers (docs/benchmarks.md):
#
#   bash scripts/bench.sh [scd2] [--rows 300000] [--days 2] [--rounds 3]   # SCD2: Tessera, dbt, SQLMesh, hand-written
#   bash scripts/bench.sh scd2 --rows 10000000 --rounds 4                    # the issue's size (needs ~10 GB disk, ~1 h)
#   bash scripts/bench.sh dispatch [--steps 20] [--rounds 5]                 # 20 no-op assets: Tessera, Dagster, bare Temporal
#   bash scripts/bench.sh backfill [--days 7] [--events-per-day 20000]      # the BookMyEvent graph: worker vs bare SQL
#   bash scripts/bench.sh backfill --year                                    # 365 days × 100,000 events/day (hours)
#
# The peers (dbt-core 1.11 + dbt-duckdb, SQLMesh, Dagster) are installed once into the per-user cache
# (scripts/bench-peers-venv.sh). The default size fits in 10 minutes on a 2-core machine.
# `dispatch` and `backfill` need the Temporal server (scripts/services/temporal.sh start, or TESSERA_TEMPORAL_ADDRESS);
# `backfill` needs no peers (it compares Tessera's worker with the same SQL run bare).
set -euo pipefail
cd "$(dirname "$0")/.."
what=scd2
case "${1:-}" in
  scd2 | dispatch | backfill)
    what=$1
    shift
    ;;
esac
if [ "$what" = backfill ]; then
  exec npx tsx bench/backfill.ts "$@"
fi
TESSERA_BENCH_PYTHON=$(bash scripts/bench-peers-venv.sh)
export TESSERA_BENCH_PYTHON
case "$what" in
  scd2)
    exec npx tsx bench/peers/run.ts "$@"
    ;;
  dispatch) exec npx tsx bench/peers/dispatch.ts "$@" ;;
esac
