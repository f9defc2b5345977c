// js/src/nest/keyv-store.ts: a Keyv storage adapter (keyv 5's KeyvStoreAdapter) backed by
// tickcache, so `@nestjs/cache-manager` and `cache-manager` 7 users switch with one line:
//   CacheModule.register({ stores: [new KeyvRedis(url)] })
//   CacheModule.register({ stores: [tickcacheKeyvStore({ redis: { url } })] })
// It takes a TieredCache (L1 + Redis L2 + the invalidation bus), a plain tickcache Cache (one
// process), or the options of createTieredCache (the store then owns the cache it creates).
//
// Keyv hands the store strings it serialized itself ({ value, expires }) under keys it
// prefixed with its namespace ("keyv:price:AAPL"); the store keeps them as they are.
// Invariants: a key written here expires with the TTL Keyv gives (ms), in every tier; clear()
// removes only this namespace's keys when Keyv set one; a write reaches the other instances'
// L1 (the bus drops their copy, so their next read comes from L2); L2 failures never reject a
// read (a miss, reported as an 'error' event, which Keyv forwards); disconnect() closes only a
// cache this store created.

import { EventEmitter } from 'node:events';

import type { Cache } from '../cache.js';
import { TickcacheError, createTieredCache } from '../index.js';
import { remainingTimes } from '../l2/adapter.js';
import { ValueCodec } from '../serializer.js';
import type { CreateTieredOptions } from '../tiered/create.js';
import type { Stored, TieredCache } from '../tiered/tiered-cache.js';
import type { Serializer } from '../types.js';

export type TickcacheKeyvSource = TieredCache | Cache<unknown> | Omit<CreateTieredOptions, 'createL1'>;

export interface TickcacheKeyvStoreOptions {
  /** Close the cache on disconnect(). Default: true when the store created it, false otherwise. */
  closeOnDisconnect?: boolean;
  /** The serializer the TieredCache was created with (to read L2 values). Default JSON. */
  serializer?: Serializer;
}

function isTiered(source: unknown): source is TieredCache {
  return typeof (source as TieredCache).getOrSetStored === 'function' && typeof (source as TieredCache).invalidateTags === 'function';
}

function isPlainCache(source: unknown): source is Cache<unknown> {
  return typeof (source as Cache).getEntry === 'function' && typeof (source as Cache).setMany === 'function';
}

interface Backend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttl: number | undefined): Promise<void>;
  delete(keys: readonly string[]): Promise<number>;
  clearPrefix(prefix: string): Promise<void>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

function ttlOption(ttl: number | undefined): { ttl?: number } {
  return typeof ttl === 'number' && ttl > 0 ? { ttl } : {};
}

function plainBackend(cache: Cache<unknown>): Backend {
  return {
    get: async (key) => cache.get(key),
    set: async (key, value, ttl) => cache.set(key, value, ttlOption(ttl)),
    delete: async (keys) => keys.reduce((removed, key) => removed + (cache.delete(key) ? 1 : 0), 0),
    clearPrefix: async (prefix) => void cache.invalidatePrefix(prefix),
    clear: async () => void cache.clear(),
    close: async () => cache.close(),
  };
}

function tieredBackend(cache: TieredCache, codec: ValueCodec, onError: (error: unknown) => void): Backend {
  // L1, then L2 directly: getOrSet would take a load lock for a key nobody is going to load.
  const read = async (key: string): Promise<{ value: unknown } | undefined> => {
    if (!cache.enabled) return undefined;
    const hit = cache.l1.get(key);
    if (hit !== undefined) return { value: hit.value };
    const l2 = cache.l2;
    if (l2 === undefined) return undefined;
    try {
      const envelope = await l2.get(key);
      const times = envelope === undefined ? undefined : remainingTimes(envelope, Date.now());
      if (envelope === undefined || times === undefined || times.ttl <= 0) return undefined;
      const value = codec.decode(envelope.value);
      const stored: Stored = { value, version: envelope.version, ttlMs: Number.isFinite(times.ttl) ? times.ttl : 0 };
      cache.l1.set(key, stored, {
        ttl: times.ttl === Infinity ? 'never' : times.ttl,
        ...(Number.isFinite(times.grace) ? { grace: times.grace } : {}),
        tags: envelope.tags,
      });
      return { value };
    } catch (error) {
      onError(error);
      return undefined;
    }
  };
  return {
    get: async (key) => (await read(key))?.value,
    set: async (key, value, ttl) => {
      if (!cache.enabled) return;
      // Writes this L1 and L2 and tells the other instances to drop their L1 copies.
      await cache.set(key, value, ttlOption(ttl));
    },
    delete: async (keys) => {
      let existed = 0;
      for (const key of keys) if ((await read(key)) !== undefined) existed++;
      await cache.delete(keys);
      return existed;
    },
    clearPrefix: async (prefix) => void (await cache.invalidatePrefix(prefix)),
    clear: async () => void (await cache.clear()),
    close: () => cache.close(),
  };
}

/** A Keyv storage adapter over tickcache (see the file comment). */
export class TickcacheKeyvStore extends EventEmitter {
  /** Keyv reads `opts` of its adapters (dialect, url); nothing here is a connection secret. */
  readonly opts: { dialect: 'tickcache'; url: string };
  /** Set by Keyv (its namespace, 'keyv' by default); keys arrive already prefixed with it. */
  namespace: string | undefined;
  private readonly backend: Promise<Backend>;
  private readonly owned: boolean;
  private closed = false;

  constructor(source: TickcacheKeyvSource | Promise<TieredCache>, options: TickcacheKeyvStoreOptions = {}) {
    super();
    if (typeof source !== 'object' || source === null) {
      throw new TickcacheError('invalid_argument', 'tickcacheKeyvStore takes a TieredCache, a Cache or createTieredCache options');
    }
    this.opts = { dialect: 'tickcache', url: 'tickcache://' };
    const codec = new ValueCodec(options.serializer);
    const onError = (error: unknown): void => this.reportError(error);
    let owned: boolean;
    let backend: Promise<Backend>;
    if (source instanceof Promise) {
      owned = options.closeOnDisconnect ?? false;
      backend = source.then((cache) => tieredBackend(cache, codec, onError));
    } else if (isTiered(source)) {
      owned = options.closeOnDisconnect ?? false;
      backend = Promise.resolve(tieredBackend(source, codec, onError));
    } else if (isPlainCache(source)) {
      owned = options.closeOnDisconnect ?? false;
      backend = Promise.resolve(plainBackend(source));
    } else {
      owned = options.closeOnDisconnect ?? true;
      backend = createTieredCache(source as Omit<CreateTieredOptions, 'createL1'>).then((cache) => tieredBackend(cache, codec, onError));
    }
    this.owned = owned;
    // The rejection is answered by every call that awaits it; this keeps it from being "unhandled".
    backend.catch((error: unknown) => this.reportError(error));
    this.backend = backend;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return (await (await this.ready()).get(key)) as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    const backend = await this.ready();
    return Promise.all(keys.map(async (key) => (await backend.get(key)) as Value | undefined));
  }

  /** `ttl` in ms, as Keyv gives it (undefined or 0: the cache's default, which may be never). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await (await this.ready()).set(key, value, ttl);
    return true;
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    const backend = await this.ready();
    for (const entry of entries) await backend.set(entry.key, entry.value, entry.ttl);
  }

  async delete(key: string): Promise<boolean> {
    return (await (await this.ready()).delete([key])) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    return (await (await this.ready()).delete(keys)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await (await this.ready()).get(key)) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    const backend = await this.ready();
    return Promise.all(keys.map(async (key) => (await backend.get(key)) !== undefined));
  }

  /** Removes this namespace's keys (Keyv's "namespace:" prefix), or everything without one. */
  async clear(): Promise<void> {
    const backend = await this.ready();
    if (this.namespace !== undefined && this.namespace !== '') await backend.clearPrefix(`${this.namespace}:`);
    else await backend.clear();
  }

  /** Closes the cache when this store created it (or closeOnDisconnect); idempotent. */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    let backend: Backend;
    try {
      backend = await this.backend;
    } catch {
      return; // it never opened
    }
    await backend.close();
  }

  private async ready(): Promise<Backend> {
    if (this.closed) throw new TickcacheError('closed', 'this tickcache Keyv store was disconnected');
    return this.backend;
  }

  private reportError(error: unknown): void {
    // An EventEmitter throws an 'error' nobody listens to; Keyv listens (and forwards it).
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/**
 * A Keyv storage adapter over tickcache: `CacheModule.register({ stores: [tickcacheKeyvStore(...)] })`.
 * `source`: createTieredCache options (the store creates and owns the cache), a TieredCache or a
 * tickcache Cache of yours (left open by disconnect unless closeOnDisconnect).
 */
export function tickcacheKeyvStore(
  source: TickcacheKeyvSource | Promise<TieredCache> = { l1: { maxEntries: 10_000 } },
  options: TickcacheKeyvStoreOptions = {},
): TickcacheKeyvStore {
  return new TickcacheKeyvStore(source, options);
}
