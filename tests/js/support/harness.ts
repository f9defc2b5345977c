// tests/js/support/harness.ts: what the backend-neutral Jest suite shares: the backend this
// project runs on, a fake clock, and caches that are closed after each test.

import { createCache } from 'tickcache';
import type { Cache, CacheOptions } from 'tickcache';

export const BACKEND = process.env['TICKCACHE_BACKEND'] as 'native' | 'wasm';

export class FakeClock {
  constructor(public ms = Date.UTC(2026, 10, 23, 15, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const open: Array<Cache<unknown>> = [];

/** A cache on this project's backend, closed after the test. */
export async function makeCache<V = unknown>(options: CacheOptions): Promise<Cache<V>> {
  const cache = await createCache<V>(options);
  open.push(cache as Cache<unknown>);
  return cache;
}

afterEach(() => {
  for (const cache of open.splice(0)) {
    try {
      cache.close();
    } catch {
      // a test that closed its cache on purpose
    }
  }
});
