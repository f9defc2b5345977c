# scripts/lib.sh: shell helpers shared by setup.sh and test.sh (sourced, never run).
#
# Invariants: every helper is safe under `set -euo pipefail`; messages go to stderr prefixed
# with the calling script's tag so a CI log says which script spoke.

TC_TAG="${TC_TAG:-tickcache}"

tc_log() { printf '%s: %s\n' "$TC_TAG" "$*" >&2; }
tc_die() {
  tc_log "error: $*"
  exit 1
}

# Seconds since the epoch with sub-second precision (bash 5's EPOCHREALTIME, else date).
tc_now() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    printf '%s\n' "${EPOCHREALTIME/,/.}"
  else
    date +%s.%N
  fi
}

# Elapsed seconds between two tc_now readings, one decimal.
tc_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The C++ sources the formatter and linters look at: *.h and *.cc under the given folders
# (those that exist), sorted so runs are reproducible. One path per line.
tc_cxx_sources() {
  local dirs=() d
  for d in "$@"; do [[ -d "$d" ]] && dirs+=("$d"); done
  ((${#dirs[@]})) || return 0
  find "${dirs[@]}" -type f \( -name '*.h' -o -name '*.cc' \) -not -path '*/node_modules/*' | sort
}

# The benchmark scripts' preparation: setup (unless TICKCACHE_SKIP_SETUP=1), then the builds the
# JavaScript benchmarks run on (unless TICKCACHE_SKIP_BUILD=1; all incremental), with their
# output on stderr so stdout carries the report only; then checks that each given file exists.
tc_prepare_js_bench() {
  [[ "${TICKCACHE_SKIP_SETUP:-0}" == 1 ]] || bash scripts/setup.sh
  if [[ "${TICKCACHE_SKIP_BUILD:-0}" != 1 ]]; then
    {
      npm run --silent build:native
      bash scripts/wasm-build.sh
      bash scripts/build-js.sh
    } 1>&2
  fi
  local built
  for built in "$@"; do
    [[ -f "$built" ]] || tc_die "$built is missing: run without TICKCACHE_SKIP_BUILD=1"
  done
}
