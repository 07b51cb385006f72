# Small helpers shared by scripts/ (source it: `. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"`).
# Only function definitions here: sourcing must not change the caller's shell options.

# Absolute path of the repository (this file lives in <repo>/scripts).
tessera_repo_root() {
  (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
}

# Per-user cache of downloads and builds, outside any clone so a fresh clone reuses them; keyed by version below it.
tessera_cache_dir() {
  echo "${TESSERA_CACHE_DIR:-${HOME}/.cache/tessera}"
}

# Where services keep their state: $TESSERA_STATE_DIR or <repo>/.state (git-ignored).
tessera_state_dir() {
  echo "${TESSERA_STATE_DIR:-$(tessera_repo_root)/.state}"
}

# tessera_log TAG message...  (to stderr, so stdout stays machine-readable)
tessera_log() {
  local tag="$1"
  shift
  echo "[${tag}] $*" >&2
}

# Runs a command as root: directly when we are root, else through sudo (fails clearly without it).
tessera_as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    tessera_log lib "need root for: $* (no sudo available)"
    return 1
  fi
}

# tessera_apt_install PKG...  installs the Debian packages not installed yet. `apt-get update` runs
# only when something is missing (fresh machines have no package lists; a second run does nothing).
tessera_apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${pkg}")
  done
  ((${#missing[@]} == 0)) && return 0
  tessera_log apt "installing ${missing[*]}"
  tessera_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  tessera_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
