// js/src/backend-wasm.ts: the WebAssembly backend, for Node (the fallback) and browsers.
//
// The glue (wasm/core_cache.mjs and the single-file module it loads) is copied to dist/wasm/ by
// scripts/build-js.sh, beside dist/esm/ and dist/cjs/, so the relative specifier below is right
// from both builds and bundlers can follow it. The module is instantiated once per realm.

import type { Backend, CoreCache, HostOptions } from './core-protocol.js';
import { TickcacheError } from './errors.js';

interface WasmGlue {
  loadTickcacheWasm(): Promise<{
    createCoreCache(optionsJson: string, host?: HostOptions): CoreCache;
    parseDuration(text: string): number;
  }>;
}

let loading: Promise<Backend> | undefined;
let loaded: Backend | undefined;

/** The wasm backend once loadWasmBackend() has resolved in this realm, else undefined. */
export function wasmBackendIfLoaded(): Backend | undefined {
  return loaded;
}

export function loadWasmBackend(): Promise<Backend> {
  loading ??= (async () => {
    // `as string` keeps TypeScript from resolving the path at compile time (the glue is built
    // by Emscripten, not tsc); the literal stays in the output for bundlers.
    const glue = (await import('../wasm/core_cache.mjs' as string)) as WasmGlue;
    const module = await glue.loadTickcacheWasm();
    loaded = {
      name: 'wasm',
      create: (optionsJson, host) => module.createCoreCache(optionsJson, host),
      open: (name) => {
        throw new TickcacheError(
          'unsupported',
          `cannot open the named cache ${JSON.stringify(name)}: named caches shared by workers need the native backend`,
        );
      },
      parseDuration: (text) => module.parseDuration(text),
    };
    return loaded;
  })();
  loading.catch(() => {
    loading = undefined; // a failed load may be retried
  });
  return loading;
}
