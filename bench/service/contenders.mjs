// @ts-check
// bench/service/contenders.mjs: the service-layer caches the service benchmarks compare, each an
// in-memory L1 over the same Redis as L2, created the way their documentation shows:
//   tickcache       createTieredCache({ l1, redis: { url, namespace } }) from the BUILT package
//                   (dist/esm), getOrSet(key, loader, { ttl })
//   bentocache      bentostore().useL1Layer(memoryDriver).useL2Layer(redisDriver), getOrSet({ key,
//                   factory, ttl }); its memory driver's default (serialize: true: L1 keeps JSON
//                   text, each hit parses it), and
//   bentocache-raw  the same with serialize: false (L1 keeps the object: bentocache's fastest)
//   cacheable       new Cacheable({ primary: in-memory Keyv, secondary: Keyv(@keyv/redis) }),
//                   getOrSet(key, fn, { ttl })
//   cache-manager   createCache({ stores: [Keyv(CacheableMemory), Keyv(@keyv/redis)] }), wrap(key,
//                   fn, ttl)
//
// Invariants: every contender is called through one `getOrSet(key, loader)` closure around its
// own call (one closure per contender, in a process of its own, so V8 inlines it the same way
// for all); every L1 holds `capacity` entries, more than a benchmark pre-loads, so no hit turns
// into a miss by eviction; every contender writes under its own key prefix (namespace), so
// contenders sharing the Redis never read one another's entries; the TTL is one hour for all
// (nothing expires during a run).

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const TICKCACHE_DIST = path.join(ROOT, 'dist/esm/index.js');
export const TTL_MS = 3_600_000;

/**
 * @typedef {object} ServiceContender
 * @property {(key: string, loader: () => Promise<unknown>) => Promise<unknown>} getOrSet
 * @property {() => Promise<void>} close
 * @property {any} cache the library's own object (tickcache: the TieredCache)
 */

/** @type {Record<string, { label: string, call: string }>} */
export const CONTENDERS = {
  tickcache: { label: 'tickcache', call: 'getOrSet(key, loader, { ttl })' },
  bentocache: { label: 'bentocache', call: 'getOrSet({ key, factory, ttl })' },
  'bentocache-raw': { label: 'bentocache (serialize: false)', call: 'getOrSet({ key, factory, ttl })' },
  cacheable: { label: 'cacheable', call: 'getOrSet(key, fn, { ttl })' },
  'cache-manager': { label: 'cache-manager 7', call: 'wrap(key, fn, ttl)' },
};
export const CONTENDER_NAMES = Object.keys(CONTENDERS);

/** @param {string} name */
export function checkContender(name) {
  if (!(name in CONTENDERS)) {
    throw new Error(`unknown contender ${JSON.stringify(name)}; known: ${CONTENDER_NAMES.join(', ')}`);
  }
  return CONTENDERS[name];
}

const require = createRequire(import.meta.url);

/** Installed versions of the peers and of the Redis clients they use. */
export function peerVersions() {
  /** @type {Record<string, string>} */
  const versions = {};
  for (const name of ['bentocache', 'cacheable', 'cache-manager', 'keyv', '@keyv/redis', 'ioredis', '@redis/client']) {
    try {
      versions[name] = require(path.join(ROOT, 'node_modules', name, 'package.json')).version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

/**
 * @param {string} name
 * @param {{ url: string, host: string, port: number, namespace: string, capacity: number }} settings
 * @returns {Promise<ServiceContender>}
 */
export async function createContender(name, settings) {
  checkContender(name);
  const { url, host, port, namespace, capacity } = settings;
  if (name === 'tickcache') {
    const { createTieredCache } = await import(TICKCACHE_DIST);
    const tiered = await createTieredCache({ l1: { maxEntries: capacity }, redis: { url, namespace } });
    const options = { ttl: TTL_MS };
    return {
      cache: tiered,
      getOrSet: (key, loader) => tiered.getOrSet(key, loader, options),
      close: () => tiered.close(),
    };
  }
  if (name === 'bentocache' || name === 'bentocache-raw') {
    const { BentoCache, bentostore } = await import('bentocache');
    const { memoryDriver } = await import('bentocache/drivers/memory');
    const { redisDriver } = await import('bentocache/drivers/redis');
    const memory = name === 'bentocache' ? memoryDriver({ maxItems: capacity }) : memoryDriver({ maxItems: capacity, serialize: false });
    const bento = new BentoCache({
      default: 'tiered',
      prefix: namespace.replace(/:$/, ''),
      stores: { tiered: bentostore().useL1Layer(memory).useL2Layer(redisDriver({ connection: { host, port } })) },
    });
    return {
      cache: bento,
      getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: TTL_MS }),
      close: () => bento.disconnect(),
    };
  }
  const { Keyv } = await import('keyv');
  const { default: KeyvRedis } = await import('@keyv/redis');
  const { Cacheable, CacheableMemory } = await import('cacheable');
  if (name === 'cacheable') {
    const cache = new Cacheable({
      primary: new Keyv({ store: new CacheableMemory({ lruSize: capacity }) }),
      secondary: new Keyv({ store: new KeyvRedis(url), namespace: namespace.replace(/:$/, '') }),
      ttl: TTL_MS,
    });
    const options = { ttl: TTL_MS };
    return {
      cache,
      getOrSet: (key, loader) => cache.getOrSet(key, loader, options),
      close: () => cache.disconnect(),
    };
  }
  const { createCache } = await import('cache-manager');
  const cache = createCache({
    stores: [
      new Keyv({ store: new CacheableMemory({ ttl: TTL_MS, lruSize: capacity }) }),
      new Keyv({ store: new KeyvRedis(url), namespace: namespace.replace(/:$/, '') }),
    ],
    ttl: TTL_MS,
  });
  return {
    cache,
    getOrSet: (key, loader) => cache.wrap(key, loader, TTL_MS),
    close: async () => {
      await cache.disconnect();
    },
  };
}
