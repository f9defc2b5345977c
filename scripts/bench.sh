#!/usr/bin/env bash
# scripts/bench.sh: the whole benchmark report, one run: the core (hit ratios over
# ../shared/traces, memory per entry, invalidation, throughput against the std::unordered_map
# floor), the JavaScript API (against lru-cache 11 and Map, memory of 1M entries) and the
# service layer (against bentocache, cacheable and cache-manager over one Redis). Each part
# builds what it needs incrementally; every part runs even when an earlier one reports a failed
# goal, and the exit code is non-zero if any part failed or crashed.
# Called by scripts/run.sh (TICKCACHE_RUN=bench); setup is run once, here or by run.sh.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=bench
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

[[ "${TICKCACHE_SKIP_SETUP:-0}" == 1 ]] || bash scripts/setup.sh || tc_die "setup failed"
export TICKCACHE_SKIP_SETUP=1

status=0
for part in bench-core bench-js bench-service; do
  [[ -f "scripts/$part.sh" ]] || continue
  printf '\n######## %s ########\n' "$part"
  bash "scripts/$part.sh" || status=1
done
exit "$status"
