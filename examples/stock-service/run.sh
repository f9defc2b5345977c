#!/usr/bin/env bash
# examples/stock-service/run.sh: builds the stock service and starts it (Ctrl-C stops it).
#
#   bash examples/stock-service/run.sh            embedded defaults: L1 in process memory
#   REDIS_URL=redis://127.0.0.1:6379 bash ...     Redis as L2 and the invalidation bus
#   PORT=8080 ADMIN_TOKEN=... CACHE_CONFIG=my-cache.json VENDOR_LATENCY_MS=100-300 bash ...
#   (every variable: src/config.ts)
#
# The service imports tickcache's built package (dist/ at the repository root, see
# src/tickcache.ts) and the repository's node_modules; both are made here when missing. The
# service itself is compiled by tsc with its own tsconfig.json into examples/stock-service/dist.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

say() { printf 'stock-service: %s\n' "$*" >&2; }

if [[ ! -d "$ROOT/node_modules/@nestjs/core" ]]; then
  say "installing the repository's npm packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
fi
if [[ ! -f "$ROOT/dist/esm/index.js" ]]; then
  say "building tickcache (npm run build: native addon, wasm, js)"
  (cd "$ROOT" && npm run build)
fi

say "compiling the service (tsc -p examples/stock-service/tsconfig.json)"
rm -rf "$HERE/dist"
"$ROOT/node_modules/.bin/tsc" -p "$HERE/tsconfig.json"

if [[ -z "${ADMIN_TOKEN:-}" ]]; then
  # The admin endpoints refuse everybody without a token; a fresh one for this run lets you in.
  ADMIN_TOKEN="$(node -e "process.stdout.write(require('node:crypto').randomBytes(18).toString('base64url'))")"
  export ADMIN_TOKEN
  say "admin token for this run (set ADMIN_TOKEN to choose one): $ADMIN_TOKEN"
fi

cd "$HERE"
exec node dist/main.js
