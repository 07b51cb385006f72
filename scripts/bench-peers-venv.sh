#!/usr/bin/env bash
# Creates (or reuses) the venv holding the benchmark's peers (dbt-core 1.11 + dbt-duckdb, SQLMesh, Dagster),
# pinned by bench/peers/requirements.txt, in the per-user cache keyed by that file's hash. PyPI only.
# Idempotent; prints the venv's python path. Override the interpreter with PYTHON=/path/to/python3.11.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$(tessera_repo_root)
req="$repo/bench/peers/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
venv="$(tessera_cache_dir)/bench-peers-${want:0:12}"
stamp="$venv/.requirements.sha"

ready() {
  [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]
}
if ready; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ready; then
  echo "$venv/bin/python"
  exit 0
fi
py=""
for c in "${PYTHON:-}" python3.11 /usr/bin/python3.11 python3; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
  if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; then
    py=$c
    break
  fi
done
[ -n "$py" ] || {
  tessera_log bench "CPython 3.11 with the venv module is needed (set PYTHON=...)"
  exit 1
}
tessera_log bench "installing the peers into $venv (once; a few minutes)"
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
"$venv/bin/python" -m pip check >&2
"$venv/bin/python" -c 'import dbt.version, sqlmesh, dagster, duckdb; assert duckdb.__version__ == "1.5.6", duckdb.__version__' >&2
echo "$want" >"$stamp"
echo "$venv/bin/python"
