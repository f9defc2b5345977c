// js/src/browser.ts: the browser entry of tickcache (export condition `browser`): the same API
// as the Node entry on the WebAssembly backend, with nothing that needs Node.

import type { Cache } from './cache.js';
import { TickcacheError } from './errors.js';
import { loadWasmBackend, wasmBackendIfLoaded } from './backend-wasm.js';
import { makeCache, openNamed } from './factory.js';
import type { OpenOptions } from './factory.js';
import type { BackendName, CacheOptions } from './types.js';

export type { Cache } from './cache.js';
export type { OpenOptions } from './factory.js';
export { ERROR_CODES, TickcacheError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { jsonSerializer } from './serializer.js';
export type * from './types.js';

const NATIVE_IN_BROWSER = 'a browser has no native addon: tickcache runs on wasm here';

export function nativeLoadError(): string {
  return NATIVE_IN_BROWSER;
}

function checkRequest(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TickcacheError('invalid_option', 'createCache takes an options object, e.g. { maxEntries: 10000 }');
  }
  if ((options as { backend?: BackendName }).backend === 'native') {
    throw new TickcacheError('backend_unavailable', NATIVE_IN_BROWSER);
  }
}

export async function createCache<V = unknown>(options: CacheOptions): Promise<Cache<V>> {
  checkRequest(options);
  const backend = await loadWasmBackend();
  return makeCache<V>(backend, options, { backend: 'wasm', nativeError: NATIVE_IN_BROWSER });
}

export function createCacheSync<V = unknown>(options: CacheOptions): Cache<V> {
  checkRequest(options);
  const backend = wasmBackendIfLoaded();
  if (backend === undefined) {
    throw new TickcacheError('backend_unavailable', 'wasm loads asynchronously: await createCache once first');
  }
  return makeCache<V>(backend, options, { backend: 'wasm', nativeError: NATIVE_IN_BROWSER });
}

export async function openCache<V = unknown>(name: string, options: OpenOptions = {}): Promise<Cache<V>> {
  const backend = await loadWasmBackend();
  return openNamed<V>(backend, name, options, { backend: 'wasm', nativeError: NATIVE_IN_BROWSER });
}
