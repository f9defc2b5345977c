#!/usr/bin/env bash
# scripts/test-package.sh: the "One import" tests of issue 3, on what a user installs.
#
#   tests/package/  npm pack + install into temp projects: ESM, CommonJS, TypeScript types, the
#                   wasm fallback and TICKCACHE_BACKEND, createCacheSync
#   tests/browser/  an esbuild browser bundle of `import { createCache } from 'tickcache'` run in
#                   headless Chromium (puppeteer-core)
#
# Invariants: builds only what is missing or older than its sources (the addon, the wasm glue,
# dist/), one build at a time, -j2 at most; runs both test folders even when the first fails
# (they test different things), and exits non-zero if either failed. Safe to run again.
# Needs: npm packages (npm ci), cmake-js's toolchain, emscripten (scripts/setup.sh), chromium.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=test-package
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

WASM_OUT="${TICKCACHE_WASM_BUILD_DIR:-build/wasm}/wasm"
CHROMIUM="${TICKCACHE_CHROMIUM:-/usr/bin/chromium}"

[[ -x node_modules/.bin/tsc && -d node_modules/puppeteer-core && -d node_modules/esbuild ]] ||
  tc_die "npm packages are missing: run npm ci (or scripts/setup.sh)"
[[ -x "$CHROMIUM" ]] || tc_die "$CHROMIUM not found: apt-get install chromium (or set TICKCACHE_CHROMIUM)"

# stale <target> <source dirs/files...>: true when target is missing or a source file is newer.
# Only files a build reads count, so editing a README does not force a rebuild.
stale() {
  local target="$1"
  shift
  [[ -e "$target" ]] || return 0
  local newer
  newer=$(find "$@" -type f \( -name '*.cc' -o -name '*.h' -o -name '*.ts' -o -name '*.mjs' \
    -o -name '*.js' -o -name '*.cjs' -o -name 'CMakeLists.txt' -o -name '*.cmake' \
    -o -name 'tsconfig.json' -o -name 'package.json' -o -name '*.sh' \) -newer "$target" -print -quit 2>/dev/null)
  [[ -n "$newer" ]]
}

timed() {
  local label="$1" start
  shift
  start=$(tc_now)
  "$@"
  tc_log "$label took $(tc_elapsed "$start" "$(tc_now)") s"
}

if stale build/addon/Release/tickcache.node core/include core/src bindings CMakeLists.txt; then
  timed "native addon build" npm run --silent build:native
fi
if stale "$WASM_OUT/tickcache_wasm.cjs" core/include core/src wasm CMakeLists.txt ||
  stale "$WASM_OUT/core_cache.mjs" wasm/core_cache.mjs; then
  timed "wasm build" bash scripts/wasm-build.sh
fi
if stale dist/cjs/index.cjs js/src tsconfig.json package.json scripts/build-js.sh \
  "$WASM_OUT/core_cache.mjs" "$WASM_OUT/tickcache_wasm.cjs" ||
  [[ ! -f dist/esm/index.js || ! -f dist/wasm/tickcache_wasm.cjs ]]; then
  timed "dist build" bash scripts/build-js.sh
fi

failed=()
for suite in tests/package tests/browser; do
  start=$(tc_now)
  if node --test --test-reporter=spec "$suite/"; then
    tc_log "$suite passed in $(tc_elapsed "$start" "$(tc_now)") s"
  else
    tc_log "$suite FAILED after $(tc_elapsed "$start" "$(tc_now)") s"
    failed+=("$suite")
  fi
done
((${#failed[@]} == 0)) || tc_die "failed: ${failed[*]}"
tc_log "package and browser tests passed"
