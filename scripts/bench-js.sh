#!/usr/bin/env bash
# scripts/bench-js.sh: the JavaScript benchmark report in one command: tickcache (object and bytes
# mode, native addon and wasm) against lru-cache 11 and a plain Map -- get-hit, set and mixed
# throughput as ratios, and the memory 1M quote objects cost -- with the goal lines. Prints a
# table on stdout and writes every figure with the machine to build/bench/js-report.json.
#
# Usage: scripts/bench-js.sh [run.mjs options, e.g. --skip-memory or --rounds 9]
#
# Installs what is missing (scripts/setup.sh) and brings the builds up to date (the addon, the
# wasm module, dist/; all incremental) first, like the README's other commands; knobs for local
# runs: TICKCACHE_SKIP_SETUP=1, TICKCACHE_SKIP_BUILD=1. Exit code: non-zero only when something
# crashed (a build, a contender); a FAIL goal line is a finding, not an error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=bench-js
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

tc_prepare_js_bench build/addon/Release/tickcache.node dist/esm/index.js dist/wasm/core_cache.mjs

started="$(tc_now)"
status=0
node bench/js/run.mjs "$@" || status=$?
tc_log "finished in $(tc_elapsed "$started" "$(tc_now)") s (exit code $status)"
exit "$status"
