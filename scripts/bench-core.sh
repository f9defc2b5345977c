#!/usr/bin/env bash
# scripts/bench-core.sh: builds the core's benchmarks (Release, build/bench) and runs them all:
# the hit-ratio table on ../shared/traces, the per-entry overhead and invalidation times, and
# the throughput beside the std::unordered_map floor (and again with 1,000 keys, in cache).
# Idempotent: it reconfigures only when needed and rebuilds incrementally (Ninja, ccache).
# Every benchmark runs even when an earlier one reports a failed goal; the script's exit code
# is non-zero if any did.
#
# Usage: scripts/bench-core.sh [--quick]   (--quick: shorter throughput runs)
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build/bench"
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

# Installs what is missing (apt packages) first: this is the README's main command.
[[ "${TICKCACHE_SKIP_SETUP:-0}" == 1 ]] || bash "$repo/scripts/setup.sh"

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

set -e
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTICKCACHE_BUILD_BENCH=ON -DTICKCACHE_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j2 --target tickcache_trace_replay tickcache_memory_bench tickcache_core_bench
set +e

status=0
run() {
  echo
  echo "==== $* ===="
  "$@"
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "==== exit code $rc: $1 ===="
    status=1
  fi
}

run "$build/bench/tickcache_trace_replay"
run "$build/bench/tickcache_memory_bench"
if [ "$quick" -eq 1 ]; then
  run "$build/bench/tickcache_core_bench" --benchmark_min_time=0.2
else
  run "$build/bench/tickcache_core_bench" --benchmark_repetitions=3 \
    --benchmark_enable_random_interleaving=true
  # The same with 1,000 keys, all in cache: what an operation costs in CPU, not in misses.
  run "$build/bench/tickcache_core_bench" --resident_keys=1000 --benchmark_filter=threads:1 \
    --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true
fi
exit "$status"
