// @ts-check
// bench/js/contenders.mjs: the caches the JavaScript benchmarks compare, created the same way
// in every benchmark: tickcache (object and bytes mode, native and wasm backend, from the built
// package 'tickcache'), lru-cache 11 and a plain Map (the floor: no bound, no policy).
//
// Invariants: each contender is the cache object itself, called as cache.get(key) and
// cache.set(key, value) by the benchmark loops (no wrapper whose own call would blur the
// ratios); a bounded contender holds `capacity` entries; a backend that cannot load is an error,
// never a silent fallback (a wasm figure labelled native would be worse than no figure).

import { LRUCache } from 'lru-cache';
import { createCache } from 'tickcache';

/** @typedef {{ get(key: string): any, set(key: string, value: any): unknown, close?(): void }} BenchCache */

/** @type {Record<string, { label: string, kind: 'tickcache' | 'peer', backend?: 'native' | 'wasm', mode?: 'object' | 'bytes' }>} */
export const CONTENDERS = {
  'native-object': { label: 'tickcache native object', kind: 'tickcache', backend: 'native', mode: 'object' },
  'native-bytes': { label: 'tickcache native bytes', kind: 'tickcache', backend: 'native', mode: 'bytes' },
  'wasm-object': { label: 'tickcache wasm object', kind: 'tickcache', backend: 'wasm', mode: 'object' },
  'wasm-bytes': { label: 'tickcache wasm bytes', kind: 'tickcache', backend: 'wasm', mode: 'bytes' },
  'lru-cache': { label: 'lru-cache 11', kind: 'peer' },
  map: { label: 'Map (no bound)', kind: 'peer' },
};

export const CONTENDER_NAMES = Object.keys(CONTENDERS);

/** @param {string} name */
export function checkContender(name) {
  if (!(name in CONTENDERS)) {
    throw new Error(`unknown contender ${JSON.stringify(name)}; known: ${CONTENDER_NAMES.join(', ')}`);
  }
  return CONTENDERS[name];
}

/**
 * Loads what a contender needs (the addon, the wasm module) without creating a cache, so a
 * memory benchmark can take its baseline after the code is loaded and before any entry exists.
 * @param {string} name
 */
export async function loadContender(name) {
  const spec = checkContender(name);
  if (spec.kind !== 'tickcache') return;
  const probe = await createCache({ maxEntries: 16, backend: spec.backend, mode: spec.mode });
  if (probe.backend !== spec.backend) {
    throw new Error(`asked for the ${spec.backend} backend, got ${probe.backend}`);
  }
  probe.close();
}

/**
 * @param {string} name
 * @param {number} capacity entries a bounded contender holds
 * @returns {Promise<BenchCache>}
 */
export async function createContender(name, capacity) {
  const spec = checkContender(name);
  if (name === 'map') return new Map();
  if (name === 'lru-cache') return new LRUCache({ max: capacity });
  const cache = await createCache({ maxEntries: capacity, backend: spec.backend, mode: spec.mode });
  if (cache.backend !== spec.backend || cache.mode !== spec.mode) {
    throw new Error(`asked for ${spec.backend}/${spec.mode}, got ${cache.backend}/${cache.mode}`);
  }
  return cache;
}

/** Entries a contender holds now. @param {BenchCache} cache */
export function entryCount(cache) {
  return /** @type {{ size: number }} */ (/** @type {unknown} */ (cache)).size;
}

/** tickcache's own charged bytes (key + value + metadata), or undefined for a peer. @param {BenchCache} cache */
export function chargedBytes(cache) {
  const bytes = /** @type {{ bytes?: unknown }} */ (/** @type {unknown} */ (cache)).bytes;
  return typeof bytes === 'number' ? bytes : undefined;
}
