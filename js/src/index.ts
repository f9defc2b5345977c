// js/src/index.ts: the Node entry of tickcache (`import { createCache } from 'tickcache'`, ESM or
// CommonJS). Picks the backend: the `backend` option, else TICKCACHE_BACKEND=native|wasm, else
// the native addon with wasm as the fallback when the addon cannot load (the reason is kept:
// cache.backendInfo.nativeError, nativeLoadError()).

import type { Cache } from './cache.js';
import type { Backend } from './core-protocol.js';
import { TickcacheError } from './errors.js';
import { loadNativeBackend, nativeLoadError } from './backend-native.js';
import { loadWasmBackend, wasmBackendIfLoaded } from './backend-wasm.js';
import { makeCache, openNamed } from './factory.js';
import type { OpenOptions } from './factory.js';
import type { BackendInfo, BackendName, CacheOptions } from './types.js';
import { createTieredCache as createTiered } from './tiered/create.js';
import type { CreateTieredOptions } from './tiered/create.js';
import type { TieredCache, Stored } from './tiered/tiered-cache.js';

export type { Cache } from './cache.js';
export type { OpenOptions } from './factory.js';
export { ERROR_CODES, TickcacheError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { jsonSerializer } from './serializer.js';
export { nativeLoadError } from './backend-native.js';
export type * from './types.js';

function requestedBackend(options: { backend?: BackendName } | undefined): BackendName | undefined {
  if (options?.backend !== undefined) return options.backend;
  const env = process.env['TICKCACHE_BACKEND'];
  if (env === undefined || env === '') return undefined;
  if (env !== 'native' && env !== 'wasm') {
    throw new TickcacheError('invalid_option', `TICKCACHE_BACKEND must be "native" or "wasm", got ${JSON.stringify(env)}`);
  }
  return env;
}

function nativeOrThrow(): Backend {
  const native = loadNativeBackend();
  if (native === undefined) {
    throw new TickcacheError('backend_unavailable', `the native addon cannot load: ${nativeLoadError() ?? 'unknown'}`);
  }
  return native;
}

function infoFor(backend: Backend): BackendInfo {
  const nativeError = nativeLoadError();
  return nativeError === undefined ? { backend: backend.name } : { backend: backend.name, nativeError };
}

async function resolveBackend(options: { backend?: BackendName } | undefined): Promise<Backend> {
  const wanted = requestedBackend(options);
  if (wanted === 'native') return nativeOrThrow();
  if (wanted === 'wasm') return loadWasmBackend();
  return loadNativeBackend() ?? loadWasmBackend();
}

function checkOptionsObject(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TickcacheError('invalid_option', 'createCache takes an options object, e.g. { maxEntries: 10000 }');
  }
}

/** Creates a cache on the best backend available (see the file comment). */
export async function createCache<V = unknown>(options: CacheOptions): Promise<Cache<V>> {
  checkOptionsObject(options);
  const backend = await resolveBackend(options);
  return makeCache<V>(backend, options, infoFor(backend));
}

/**
 * Creates a cache without awaiting: the native backend, or wasm if it was already loaded in this
 * realm by an earlier createCache (wasm instantiation is asynchronous).
 */
export function createCacheSync<V = unknown>(options: CacheOptions): Cache<V> {
  checkOptionsObject(options);
  const wanted = requestedBackend(options);
  let backend: Backend | undefined;
  if (wanted === 'wasm') {
    backend = wasmBackendIfLoaded();
    if (backend === undefined) {
      throw new TickcacheError('backend_unavailable', 'the wasm backend loads asynchronously: use createCache');
    }
  } else {
    backend = wanted === 'native' ? nativeOrThrow() : (loadNativeBackend() ?? wasmBackendIfLoaded());
    if (backend === undefined) {
      throw new TickcacheError(
        'backend_unavailable',
        `the native addon cannot load (${nativeLoadError() ?? 'unknown'}) and wasm loads asynchronously: use createCache`,
      );
    }
  }
  return makeCache<V>(backend, options, infoFor(backend));
}

/** Opens, from any worker_thread of this process, a cache created with `name` (native, bytes mode). */
export async function openCache<V = unknown>(name: string, options: OpenOptions & { backend?: BackendName } = {}): Promise<Cache<V>> {
  const backend = await resolveBackend(options);
  const { backend: _ignored, ...rest } = options;
  return openNamed<V>(backend, name, rest, infoFor(backend));
}

// ---- the service layer: tiers, Redis, the bus -----------------------------------------------

export { TieredCache } from './tiered/tiered-cache.js';
export type { GetOrSetOptions, Loader, Stored, TieredCacheOptions } from './tiered/tiered-cache.js';
export type { TieredStatsSnapshot, HealthReport } from './tiered/stats.js';
export type { EventMap, EventTargets } from './tiered/events.js';
export type { InvalidationBus, InvalidationMessage } from './tiered/bus.js';
export { RedisBus } from './tiered/bus.js';
export { Refresher } from './tiered/refresher.js';
export type { RefreshReport, RefresherOptions } from './tiered/refresher.js';
export { CircuitBreaker } from './tiered/breaker.js';
export type { BreakerState } from './tiered/breaker.js';
export { RedisLoadLock } from './tiered/lock.js';
export type { LoadLock, LockHandle } from './tiered/lock.js';
export { RedisL2Adapter } from './l2/redis.js';
export type { L2Adapter, L2Envelope } from './l2/adapter.js';
export { L2Error } from './l2/errors.js';
export type { CreateTieredOptions, TieredRedisOptions } from './tiered/create.js';

/** A tiered cache: L1 on the best backend, with `redis` an L2, a load lock and the invalidation bus. */
export function createTieredCache(options: Omit<CreateTieredOptions, 'createL1'> = {}): Promise<TieredCache> {
  return createTiered({ ...options, createL1: createOrOpenL1 });
}

// A named L1 is created by the first worker_thread that asks and opened by the others.
async function createOrOpenL1(options: CacheOptions): Promise<Cache<Stored>> {
  try {
    return await createCache<Stored>(options);
  } catch (error) {
    if (options.name === undefined || (error as TickcacheError).code !== 'name_taken') throw error;
    const { serializer, clock, backend } = options;
    return openCache<Stored>(options.name, {
      ...(serializer !== undefined ? { serializer } : {}),
      ...(clock !== undefined ? { clock } : {}),
      ...(backend !== undefined ? { backend } : {}),
    });
  }
}
