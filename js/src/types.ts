// js/src/types.ts: the public types of tickcache's TypeScript API (one set for Node and the
// browser, for the native and the wasm backend alike).

/** Milliseconds, or a string: a number and one unit of ms, s, m, h, d, w ("250ms", "5m", "2d"); "never" for no expiry (TTL only). */
export type Duration = number | string;

export type BackendName = 'native' | 'wasm';
/** `object`: values kept by reference (no copy on a hit). `bytes`: serialized off the JS heap. */
export type ValueMode = 'object' | 'bytes';
export type PolicyName = 'w-tinylfu' | 'lru' | 'sieve';

/** Turns values into bytes and back in `bytes` mode. JSON is the default. */
export interface Serializer {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

/** The policy file: key patterns and namespaces mapped to TTL, grace and tags (core/include/tickcache/config.h). */
export interface PolicyConfig {
  version?: 1;
  defaults?: { ttl?: Duration; grace?: Duration };
  rules?: ReadonlyArray<{
    match?: string;
    namespace?: string;
    ttl?: Duration;
    grace?: Duration;
    tags?: readonly string[];
    [field: string]: unknown;
  }>;
  [field: string]: unknown;
}

export interface CacheOptions {
  /** At most this many entries (0 or absent: bounded by bytes only). One bound is required. */
  maxEntries?: number;
  /** At most this many charged bytes: key + value + per-entry metadata. */
  maxBytes?: number;
  /** Default `object`. */
  mode?: ValueMode;
  /** Default `w-tinylfu`. */
  policy?: PolicyName;
  /** TTL when neither the call nor a config rule gives one. Default: never expires. */
  defaultTtl?: Duration;
  /** Grace after the TTL during which a stale value is still served. Default 0. */
  defaultGrace?: Duration;
  maxKeyBytes?: number;
  maxValueBytes?: number;
  config?: PolicyConfig;
  /** `bytes` mode only. Buffer and Uint8Array values always pass through as bytes. */
  serializer?: Serializer;
  /** Force a backend; otherwise TICKCACHE_BACKEND, then native with wasm as the fallback. */
  backend?: BackendName;
  /** A process-wide name (native, bytes mode): other worker_threads open it with openCache(name). */
  name?: string;
  /** Milliseconds since the epoch; tests pass a fake clock. Default Date.now. */
  clock?: () => number;
  shards?: number;
  hashSeed?: number;
  /**
   * Where entries live: in memory (the default) or, native and bytes mode only, in log files
   * under `directory` (kept under `maxFileBytes`), so a cache reopened after a restart starts warm.
   */
  store?: { type: 'memory' } | { type: 'file'; directory: string; maxFileBytes?: number };
}

export interface SetOptions {
  ttl?: Duration;
  grace?: Duration;
  tags?: readonly string[];
}

export type Freshness = 'fresh' | 'stale';

/** A value with its freshness. `ttl` and `staleTtl` are remaining milliseconds (Infinity: never). */
export interface CacheEntry<V> {
  value: V;
  state: Freshness;
  /** Until the value turns stale (0 when stale). */
  ttl: number;
  /** Until the value is gone (the end of its grace). */
  staleTtl: number;
}

export interface CacheStats {
  hits: number;
  staleHits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  rejections: number;
  expirations: number;
  invalidations: number;
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  hitRate: number;
  policy: string;
  backend: BackendName;
  mode: ValueMode;
  [field: string]: unknown;
}

export interface BackendInfo {
  backend: BackendName;
  /** Why the native addon did not load, when the cache fell back to wasm (or was forced). */
  nativeError?: string;
}

export interface SetManyEntry<V> extends SetOptions {
  key: string;
  value: V;
}
