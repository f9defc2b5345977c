#!/usr/bin/env bash
# scripts/setup.sh: installs what building and testing tickcache needs on Debian 12.
#
# Idempotent and non-interactive (CI runs it as root with no standard input): it installs
# only packages `dpkg -s` does not report installed, runs `apt-get update` once and only when
# something is missing, and prints one line per thing it installed. Safe to run before every
# test run: with nothing missing it takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TC_TAG=setup
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

export DEBIAN_FRONTEND=noninteractive

# Toolchain, C++ libraries, the wasm toolchain (emscripten needs node-acorn, see DESIGN.md),
# and what the integration and browser tests run against.
PACKAGES=(
  build-essential cmake ninja-build ccache
  clang clang-format clang-tidy libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libxxhash-dev zlib1g-dev
  emscripten node-acorn
  redis-server chromium chromium-driver
)
# npm is needed only once there is a package to install with it. The machine's Node.js
# (NodeSource's nodejs package) ships its own npm, and Debian's npm package would fight it,
# so Debian's pair comes in only where no npm exists at all.
if [[ -f "$ROOT/package.json" ]] && ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi

is_installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'; }

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo -n "$@"
  else
    tc_die "need root to run: $*"
  fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  tc_log "installing ${#missing[@]} missing package(s): ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null
  for pkg in "${missing[@]}"; do
    is_installed "$pkg" || tc_die "apt-get finished but $pkg is not installed"
    tc_log "installed $pkg"
  done
else
  tc_log "all ${#PACKAGES[@]} packages present"
fi

# JavaScript dependencies, once package.json exists. `npm ci` wipes node_modules, so it
# runs only when the lock file changed since the last successful run (a stamp remembers).
if [[ -f "$ROOT/package.json" ]]; then
  [[ -f "$ROOT/package-lock.json" ]] ||
    tc_die "package.json has no package-lock.json beside it; run 'npm install' and commit the lock"
  stamp="$ROOT/node_modules/.tickcache-setup-stamp"
  want="$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    tc_log "node_modules matches package-lock.json"
  else
    (cd "$ROOT" && npm ci --no-audit --no-fund </dev/null)
    mkdir -p "$ROOT/node_modules"
    printf '%s\n' "$want" >"$stamp"
    tc_log "installed node_modules (npm ci)"
  fi
else
  tc_log "no package.json: npm ci skipped"
fi
