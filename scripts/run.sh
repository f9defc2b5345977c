#!/usr/bin/env bash
# scripts/run.sh: THE main job of tickcache (`bash scripts/run.sh`). Installs what is missing
# (scripts/setup.sh: apt and npm packages), builds what is stale (the addon, the wasm module,
# the TypeScript package), then:
#   TICKCACHE_RUN=service (the default once examples/stock-service exists): starts the example
#     stock-data service and prints where to look;
#   TICKCACHE_RUN=bench: prints the benchmark report (scripts/bench.sh).
# Safe to run again: every step is idempotent and incremental.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=run
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

export NODE_PATH=/usr/share/nodejs  # Emscripten 3.1.6 finds acorn only this way
[[ "${TICKCACHE_SKIP_SETUP:-0}" == 1 ]] || bash scripts/setup.sh
export TICKCACHE_SKIP_SETUP=1

npm run --silent build:native
bash scripts/wasm-build.sh
bash scripts/build-js.sh

mode="${TICKCACHE_RUN:-}"
if [[ -z "$mode" ]]; then
  if [[ -f examples/stock-service/run.sh ]]; then mode=service; else mode=bench; fi
fi
case "$mode" in
  service) exec bash examples/stock-service/run.sh ;;
  bench) exec bash scripts/bench.sh ;;
  *) tc_die "TICKCACHE_RUN must be service or bench, got '$mode'" ;;
esac
