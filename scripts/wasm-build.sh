#!/usr/bin/env bash
# scripts/wasm-build.sh: the Emscripten build of tickcache (the core, its GoogleTest suite as
# wasm, and whatever wasm/ links), in build/wasm. `ctest --test-dir build/wasm` then runs the
# suite under node. Extra arguments go to cmake's configure step.
#
# Invariants: safe to run again (an incremental rebuild; ccache keeps a fresh clone quick);
# uses Debian's emscripten 3.1.6 as installed, downloads nothing; two build jobs at most.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=wasm-build
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

BUILD_DIR="${TICKCACHE_WASM_BUILD_DIR:-build/wasm}"
# Emscripten 3.1.6 cannot find acorn without this: every optimized link would fail.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"

command -v emcmake >/dev/null || tc_die "emcmake not found: apt-get install emscripten"
node -e "require('acorn')" 2>/dev/null ||
  tc_die "node cannot load acorn with NODE_PATH=$NODE_PATH: apt-get install node-acorn"

# Our emulator first: emcmake would otherwise add node's --experimental-wasm-threads, which
# Node 20 rejects; --no-experimental-fetch keeps the 3.1.6 loader off fetch() for files.
emcmake cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v node);--no-experimental-fetch" "$@"
cmake --build "$BUILD_DIR" -j 2
tc_log "built in $BUILD_DIR; run the wasm tests with: ctest --test-dir $BUILD_DIR"
