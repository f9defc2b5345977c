// src/cache/market-cache.ts: the seam between the service and its cache. The service asks for a
// key with a loader and gets the value with how it was answered (HIT, STALE, MISS), a version
// (for ETags) and the fresh time left (for Cache-Control). Three implementations, chosen by
// CACHE_MODE: tickcache (the point of this example), @nestjs/cache-manager over Keyv (the peer
// the benchmark compares with, cache-manager-cache.ts) and none (caching switched off).
//
// Invariants: a failed load rejects with the loader's own error (the HTTP layer maps vendor
// errors); the cache never turns a vendor value into something else; with caching off every
// fetch is exactly one loader call.

import type { CacheMode } from '../config.js';
import type { TieredCache } from '../tickcache.js';

export type CacheStatus = 'HIT' | 'STALE' | 'MISS';

export interface CachedAnswer<V> {
  value: V;
  status: CacheStatus;
  /** Where a HIT came from (l1, l2); 'source' for a MISS. */
  tier: 'l1' | 'l2' | 'source';
  /** Changes whenever the value's bytes change (tickcache: a hash of them); absent when unknown. */
  version?: number;
  /** Fresh time left, ms; absent when unknown. */
  freshMs?: number;
}

export interface MarketCache {
  readonly mode: CacheMode;
  fetch<V>(key: string, load: () => Promise<V>): Promise<CachedAnswer<V>>;
}

/** The Nest injection token of the MarketCache. */
export const MARKET_CACHE = Symbol('MARKET_CACHE');

export class TickcacheMarketCache implements MarketCache {
  readonly mode = 'tickcache' as const;

  constructor(readonly tiered: TieredCache) {}

  async fetch<V>(key: string, load: () => Promise<V>): Promise<CachedAnswer<V>> {
    const answer = await this.tiered.getOrSetStored<V>(key, load);
    if (!this.tiered.enabled) return { value: answer.value, status: 'MISS', tier: 'source' };
    const freshMs = this.tiered.l1.peek(key)?.ttl;
    const common = { value: answer.value, version: answer.version, ...(freshMs !== undefined ? { freshMs } : {}) };
    switch (answer.source) {
      case 'l1':
        return { ...common, status: 'HIT', tier: 'l1' };
      case 'l2':
        return { ...common, status: 'HIT', tier: 'l2' };
      case 'l1-stale':
        return { ...common, status: 'STALE', tier: 'l1', freshMs: 0 };
      case 'loader':
        return { ...common, status: 'MISS', tier: 'source' };
    }
  }
}

export class NoMarketCache implements MarketCache {
  readonly mode = 'off' as const;

  async fetch<V>(_key: string, load: () => Promise<V>): Promise<CachedAnswer<V>> {
    return { value: await load(), status: 'MISS', tier: 'source' };
  }
}
