#!/usr/bin/env bash
# scripts/bench-service.sh: the service-layer benchmark report in one command: tickcache's tiered
# getOrSet with an L1 hit against bentocache, cacheable and cache-manager 7 (each an in-memory L1
# over the same Redis), and an L2 hit against a raw ioredis GET, as ratios with the goal lines.
# Prints tables on stdout and writes every figure, the versions and the machine to
# build/bench/service-report.json. A redis-server is started on a free loopback port for the run
# and stopped at its end (bench/service/redis-server.mjs).
#
# Usage: scripts/bench-service.sh [run.mjs options, e.g. --skip-l2 or --rounds 9]
#
# Installs what is missing (scripts/setup.sh: redis-server among it) and brings the builds up to
# date (the addon, the wasm module, dist/; all incremental) first, like the README's other
# commands; knobs for local runs: TICKCACHE_SKIP_SETUP=1, TICKCACHE_SKIP_BUILD=1. Exit code:
# non-zero only when something crashed (a build, a benchmark process); a FAIL goal line is a
# finding, not an error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=bench-service
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

tc_prepare_js_bench build/addon/Release/tickcache.node dist/esm/index.js
command -v redis-server >/dev/null || tc_die "redis-server is not installed: run without TICKCACHE_SKIP_SETUP=1"

started="$(tc_now)"
status=0
node bench/service/run.mjs "$@" || status=$?
tc_log "finished in $(tc_elapsed "$started" "$(tc_now)") s (exit code $status)"
exit "$status"
