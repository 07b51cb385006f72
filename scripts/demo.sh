#!/usr/bin/env bash
# The main job: BookMyEvent's pipeline on the embedded default. Installs what is missing, then runs `tessera demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
export TESSERA_STATE_DIR="${TESSERA_STATE_DIR:-$PWD/.state}"
mkdir -p "$TESSERA_STATE_DIR"
bash scripts/setup-node.sh
exec node bin/tessera.js demo "$@"
