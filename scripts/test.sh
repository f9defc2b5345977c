#!/usr/bin/env bash
# scripts/test.sh: THE test command of tickcache (`bash scripts/test.sh`; CI runs it via .ci/run).
#
# Runs a list of named steps in order and stops at the first red one (a later step would only
# bury the first error). Every step is timed. The last line is always
#   tickcache: N passed, M failed
# counting steps, and the exit status is 0 only when every step passed. A test that ctest
# reports as skipped or not run fails its step: a skipped test proves nothing.
#
# Adding a step is one line: write step_<name> and append <name> to STEPS.
# Knobs: TICKCACHE_SKIP_SETUP=1 skips setup.sh (fast local iteration only, never in CI);
#        TICKCACHE_ONLY="tidy fuzz" runs only the named steps (local iteration only);
#        TICKCACHE_FUZZ_SECONDS (default 60) bounds the libFuzzer run.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=tickcache
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

JOBS=2  # the machine has two cores; more would only thrash
# Emscripten 3.1.6 cannot find acorn without this (DESIGN.md, environment facts).
export NODE_PATH=/usr/share/nodejs
# Lets ccache hit across clones at different paths (CI builds in a fresh clone).
export CCACHE_BASEDIR="$ROOT"
export CTEST_OUTPUT_ON_FAILURE=1
FUZZ_SECONDS="${TICKCACHE_FUZZ_SECONDS:-60}"
FORMAT_DIRS=(core tests bench bindings wasm)

# ---- helpers -------------------------------------------------------------------------

# configure <build dir> [cmake args...]: a Ninja build of this tree.
configure() {
  local dir="$1"
  shift
  local bench=OFF
  # Benchmarks are compiled (not run) in the native build so they cannot rot unnoticed.
  [[ "$dir" == build/native && -f bench/CMakeLists.txt ]] && bench=ON
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTICKCACHE_BUILD_BENCH="$bench" "$@"
}

# run_ctest <build dir> [ctest args...]: ctest that also fails when any test was skipped or
# not run, and when no test was selected at all.
run_ctest() {
  local dir="$1"
  shift
  local log="$dir/ctest.log"
  local results="$ROOT/$dir/gtest-results"
  rm -rf "$results" && mkdir -p "$results"
  GTEST_OUTPUT="xml:$results/" \
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --no-tests=error "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if grep -q -e 'The following tests did not run' -e '\*\*\*Skipped' -e 'Not Run' "$log"; then
    tc_log "some tests were skipped or not run (see above): a skipped test is a failing test"
    return 1
  fi
  # A gtest filter that selects nothing passes silently (a '-' in a test name turns the rest
  # of the name into an exclusion): every ctest test must have run a gtest test.
  local empty
  empty=$(grep -l '<testsuites tests="0"' "$results"/*.xml 2>/dev/null | head -n 3 || true)
  if [[ -n "$empty" ]]; then
    tc_log "a ctest test ran no gtest test (its name does not select it): $empty"
    return 1
  fi
  return "$rc"
}

# ---- steps -----------------------------------------------------------------------------

step_setup() {
  CI="${CI:-true}" bash scripts/setup.sh
}

step_format() {
  local files
  mapfile -t files < <(tc_cxx_sources "${FORMAT_DIRS[@]}")
  ((${#files[@]})) || tc_die "no C++ sources found under ${FORMAT_DIRS[*]}"
  clang-format --dry-run --Werror "${files[@]}"
  tc_log "${#files[@]} files formatted as .clang-format says"
}

step_tidy() {
  local sources
  mapfile -t sources < <(find core/src -maxdepth 1 -name '*.cc' | sort)
  ((${#sources[@]})) || tc_die "no core/src/*.cc to lint"
  configure build/native >/dev/null
  [[ -f build/native/compile_commands.json ]] || tc_die "build/native has no compile_commands.json"
  if command -v run-clang-tidy >/dev/null; then
    run-clang-tidy -quiet -j "$JOBS" -p build/native "/core/src/[^/]*\\.cc\$"
  else
    local f rc=0
    for f in "${sources[@]}"; do clang-tidy --quiet -p build/native "$f" || rc=1; done
    return "$rc"
  fi
  tc_log "clang-tidy clean on ${#sources[@]} files"
}

step_native() {
  configure build/native
  cmake --build build/native -j "$JOBS"
  run_ctest build/native
}

step_asan() {
  configure build/asan -DTICKCACHE_SANITIZE=address,undefined
  cmake --build build/asan -j "$JOBS" --target tickcache_core_tests
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    run_ctest build/asan
}

step_tsan() {
  configure build/tsan -DTICKCACHE_SANITIZE=thread
  cmake --build build/tsan -j "$JOBS" --target tickcache_core_tests
  local count
  count="$(ctest --test-dir build/tsan -N -R Concurrency | sed -n 's/^Total Tests: //p')"
  if [[ -z "$count" || "$count" == 0 ]]; then
    tc_die "no test name matches 'Concurrency': the ThreadSanitizer step has nothing to run"
  fi
  TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}" \
    run_ctest build/tsan -R Concurrency
}

step_fuzz() {
  CC=clang CXX=clang++ configure build/fuzz -DTICKCACHE_BUILD_FUZZ=ON -DTICKCACHE_BUILD_TESTS=OFF
  cmake --build build/fuzz -j "$JOBS" --target tickcache_fuzzer
  mkdir -p build/fuzz/corpus build/fuzz/artifacts
  # The corpus persists across local runs (under build/); crashes land in artifacts/.
  build/fuzz/tickcache_fuzzer -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=30 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ \
    build/fuzz/corpus
}

# The core's GoogleTest suite as wasm under node (tests that need files or threads are left
# out by name in tests/core/CMakeLists.txt, each with its reason).
step_wasm() {
  bash scripts/wasm-build.sh
  run_ctest build/wasm
}

# The wasm module (bindings/PROTOCOL.md's CoreCache: wasm/exports.cc + wasm/core_cache.mjs,
# built into build/wasm/wasm/ by the same build) under node's built-in test runner.
step_wasm_module() {
  bash scripts/wasm-build.sh
  node --test tests/wasm/
}

# The Node addon (bindings/addon.cc, cmake-js into build/addon) under node's built-in test
# runner: every PROTOCOL.md call, the error codes, a worker_thread.
step_native_addon() {
  npm run build:native
  node --test tests/native/
}

# The TypeScript compiler in strict mode over the package and every test folder written in TS.
# After the js step: the example service type-checks against the built package (dist/), as a
# user's service would.
step_typescript() {
  npx --no-install tsc -p tsconfig.json --noEmit
  local project
  for project in tests/js/tsconfig.json tests/service/tsconfig.json tests/nest/tsconfig.json; do
    npx --no-install tsc -p "$project" --noEmit
  done
  tc_log "tsc --strict clean on js/src and the TypeScript tests"
}

# Jest through the built package (dist/): builds the addon, the wasm module and dist/ first
# (each is incremental), then runs the one suite on both backends (jest.config.cjs projects).
jest() {
  NODE_OPTIONS="--experimental-vm-modules --no-warnings" npx --no-install jest --ci "$@"
}

step_js() {
  npm run build:native
  bash scripts/wasm-build.sh
  bash scripts/build-js.sh
  jest --selectProjects native wasm
}

# The service layer against a real redis-server (started and stopped by the tests).
step_service() {
  bash scripts/build-js.sh
  jest --selectProjects service --runInBand
}

# The package as users get it: npm pack, installed offline into fresh projects (ESM, CommonJS,
# TypeScript, the wasm fallback), and the browser bundle in headless Chromium.
step_package() {
  bash scripts/test-package.sh
}

# NestJS apps over HTTP (tests/nest) and the example service end to end (examples/stock-service):
# real Nest apps, supertest, real redis-server; nothing may stay open after the apps close.
step_nest() {
  bash scripts/build-js.sh
  jest --selectProjects nest --runInBand --detectOpenHandles
}

STEPS=(setup format tidy native asan tsan wasm wasm_module native_addon js typescript package service nest fuzz)

# ---- runner ----------------------------------------------------------------------------

if [[ "${TICKCACHE_SKIP_SETUP:-0}" == 1 ]]; then
  tc_log "TICKCACHE_SKIP_SETUP=1: not running setup.sh (local iteration only)"
  STEPS=("${STEPS[@]/setup/}")
fi

if [[ -n "${TICKCACHE_ONLY:-}" ]]; then
  tc_log "TICKCACHE_ONLY: running only ${TICKCACHE_ONLY} (local iteration only)"
  for name in ${TICKCACHE_ONLY//,/ }; do
    declare -F "step_$name" >/dev/null || tc_die "no step named '$name' (steps: ${STEPS[*]})"
  done
  read -r -a STEPS <<<"${TICKCACHE_ONLY//,/ }"
fi

passed=0
failed=0
summary=()
not_run=()
for name in "${STEPS[@]}"; do
  [[ -n "$name" ]] || continue
  if ((failed)); then
    not_run+=("$name")
    continue
  fi
  printf '\n==== %s: step %s ====\n' "$TC_TAG" "$name"
  start="$(tc_now)"
  # A subshell so `set -e` holds inside the step (it would not under `if`) and a step's
  # failure or exit cannot end the runner before it prints the summary.
  (set -euo pipefail && "step_$name")
  rc=$?
  secs="$(tc_elapsed "$start" "$(tc_now)")"
  if ((rc == 0)); then
    passed=$((passed + 1))
    summary+=("$(printf '  %-8s ok      %8ss' "$name" "$secs")")
    printf '==== %s: step %s passed in %ss ====\n' "$TC_TAG" "$name" "$secs"
  else
    failed=$((failed + 1))
    summary+=("$(printf '  %-8s FAILED  %8ss  (exit %d)' "$name" "$secs" "$rc")")
    printf '==== %s: step %s FAILED (exit %d) after %ss ====\n' "$TC_TAG" "$name" "$rc" "$secs"
  fi
done

printf '\n%s: summary\n' "$TC_TAG"
printf '%s\n' "${summary[@]}"
((${#not_run[@]})) && printf '  not run after the failure: %s\n' "${not_run[*]}"
printf '%s: %d passed, %d failed\n' "$TC_TAG" "$passed" "$failed"
((failed == 0))
