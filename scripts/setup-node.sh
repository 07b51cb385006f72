#!/usr/bin/env bash
# Installs the npm packages when package-lock.json changed since the last install (or node_modules is absent).
# Holds .cache/npm.lock while it checks and installs, so two scripts of one clone never run `npm ci` at once.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
exec 9>.cache/npm.lock
flock 9
stamp=.cache/npm-installed.sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -d node_modules ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
