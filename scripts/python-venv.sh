#!/usr/bin/env bash
# Creates (or reuses) the Python venv for the tests' oracles, with the
# pinned packages of scripts/requirements-test.txt. Idempotent: does nothing when the venv exists and was
# built from the same requirements file. Prints the venv's python path on success.
# Override the interpreter with PYTHON=/path/to/python3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# Per user, outside the clone (a fresh clone reuses it), keyed by the requirements file's hash.
cache="${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}"
venv="$cache/venv-py-$(sha256sum "$repo/scripts/requirements-test.txt" | cut -c1-12)"
req="$repo/scripts/requirements-test.txt"
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)

ready() {
  [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && "$venv/bin/python" -c 'import gbstats' >/dev/null 2>&1
}
if ready; then
  echo "$venv/bin/python"
  exit 0
fi

# Test files run in parallel and may all call this at once: build under a lock, re-check inside it.
mkdir -p "$cache"
exec 9>"$venv.lock"
flock 9
if ready; then
  echo "$venv/bin/python"
  exit 0
fi

pick_python() {
  local c
  for c in "${PYTHON:-}" python3.11 /usr/bin/python3.11 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
py=$(pick_python) || {
  echo "[python-venv] CPython 3.11 with the venv module is needed (set PYTHON=...)" >&2
  exit 1
}

echo "[python-venv] creating $venv with $("$py" --version 2>&1)" >&2
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2
"$venv/bin/python" -m pip check >&2
"$venv/bin/python" -c 'import gbstats, scipy, statsmodels' >&2
echo "$want" > "$stamp"
echo "$venv/bin/python"
