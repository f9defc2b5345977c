#!/usr/bin/env bash
# scripts/build-js.sh: builds the npm package's JavaScript into dist/ from js/src (TypeScript).
#
#   dist/esm/    ES modules + .d.ts (tsc)            the "import" and "browser" conditions
#   dist/cjs/    CommonJS entries (require of the ES modules) + .d.cts: the "require" condition
#   dist/wasm/   the wasm glue (wasm/core_cache.mjs + the single-file module), copied from the
#                wasm build so both builds reach it as ../wasm/ and bundlers can follow it
# The native addon stays in build/addon/Release (npm run build:native); dist/esm and dist/cjs
# both sit two levels below the package root, so one relative path finds it from either.
# Needs: npm packages (npm ci), the wasm build (scripts/wasm-build.sh). Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TC_TAG=build-js
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

WASM_OUT="${TICKCACHE_WASM_BUILD_DIR:-build/wasm}/wasm"
for f in core_cache.mjs tickcache_wasm.cjs; do
  [[ -f "$WASM_OUT/$f" ]] || tc_die "$WASM_OUT/$f is missing: run scripts/wasm-build.sh first"
done

# Built beside dist/ and swapped in at the end, so a reader (a test, npm pack) never sees a
# half-built dist/.
OUT="$(mktemp -d "$ROOT/.dist-build.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
npx --no-install tsc -p tsconfig.json --outDir "$OUT/esm" --declarationDir "$OUT/esm"
printf '{\n  "type": "module"\n}\n' >"$OUT/esm/package.json"

# CommonJS: require() of the ES modules themselves (Node >= 20.19 loads ES modules from
# require). Not a second build: CommonJS and ESM users share one module instance -- one backend,
# one TickcacheError class, one set of caches -- so there is no dual-package hazard.
mkdir -p "$OUT/cjs"
cjs_entry() {
  printf "'use strict';\n// The package's CommonJS face: the ES module itself (see scripts/build-js.sh).\nmodule.exports = require('%s');\n" "$1" >"$2"
}
cjs_entry ../esm/index.js "$OUT/cjs/index.cjs"
[[ -f "$OUT/esm/nest/index.js" ]] && cjs_entry ../esm/nest/index.js "$OUT/cjs/nest.cjs"
printf '{\n  "type": "commonjs"\n}\n' >"$OUT/cjs/package.json"
# Types for require(): the same declarations, as .d.cts naming .cjs siblings (every folder).
while IFS= read -r dts; do
  rel="${dts#"$OUT"/esm/}"
  out="$OUT/cjs/${rel%.d.ts}.d.cts"
  mkdir -p "$(dirname "$out")"
  sed -E "s#((from|import\() *'\.{1,2}/[A-Za-z0-9_./-]+)\.js'#\1.cjs'#g" "$dts" |
    grep -v '^//# sourceMappingURL' >"$out"
done < <(find "$OUT/esm" -name '*.d.ts')

mkdir -p "$OUT/wasm"
cp "$WASM_OUT/core_cache.mjs" "$WASM_OUT/tickcache_wasm.cjs" "$OUT/wasm/"
rm -rf dist.old
[[ -d dist ]] && mv dist dist.old
mv "$OUT" dist
rm -rf dist.old
tc_log "built dist/ (esm, cjs, wasm)"
