// tests/service/tiered.test.ts: getOrSet over L1 alone (no Redis): one loader call for 1,000
// concurrent callers, grace (stale at once, refreshed in the background, stale-if-error with
// back-off), soft and hard timeouts, refresh-ahead, the global switch, wrap, warm, refresh and
// versions, stats, health and Prometheus text. Time is a fake clock wherever TTLs matter.

import { createCache, createTieredCache } from '../../js/src/index.js';
import type { Cache } from '../../js/src/index.js';
import { TieredCache } from '../../js/src/tiered/tiered-cache.js';
import type { Stored } from '../../js/src/tiered/tiered-cache.js';

class FakeClock {
  ms = Date.UTC(2026, 10, 23, 15, 0, 0);
  readonly now = (): number => this.ms;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let l1: Cache<Stored>;
let clock: FakeClock;
let tiered: TieredCache;
const errors: string[] = [];

beforeEach(async () => {
  clock = new FakeClock();
  l1 = await createCache<Stored>({ maxEntries: 10_000, clock: clock.now });
  errors.length = 0;
  tiered = new TieredCache({ l1, clock: clock.now, onError: (_error, context) => errors.push(context) });
});

afterEach(async () => {
  await tiered.close();
  l1.close();
});

test('1,000 concurrent callers of one key make exactly one loader call', async () => {
  let calls = 0;
  const gate = deferred<number>();
  const loader = async (): Promise<number> => {
    calls++;
    return gate.promise;
  };
  const callers = Array.from({ length: 1000 }, () => tiered.getOrSet('price:AAPL', loader, { ttl: '5m' }));
  await tick();
  gate.resolve(189.5);
  const values = await Promise.all(callers);
  expect(calls).toBe(1);
  expect(new Set(values)).toEqual(new Set([189.5]));
  const stats = tiered.stats();
  expect(stats.loader.calls).toBe(1);
  expect(stats.coalesced).toBe(999);
  expect(await tiered.getOrSet('price:AAPL', loader)).toBe(189.5);
  expect(calls).toBe(1);
  expect(tiered.stats().l1.hits).toBe(1);
});

test('a rejected load reaches every waiting caller and the next call loads again', async () => {
  let calls = 0;
  const failing = async (): Promise<number> => {
    calls++;
    throw new Error('vendor down');
  };
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => tiered.getOrSet('k', failing)));
  expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'vendor down')).toBe(true);
  expect(calls).toBe(1);
  expect(await tiered.getOrSet('k', () => 7)).toBe(7);
});

test('within grace the stale value comes at once and one background refresh replaces it', async () => {
  let version = 1;
  const loader = async (): Promise<string> => `v${version}`;
  expect(await tiered.getOrSet('quote', loader, { ttl: '1m', grace: '1h' })).toBe('v1');
  clock.ms += 61_000;
  version = 2;
  const slow = deferred<string>();
  const answers = await Promise.all([
    tiered.getOrSet('quote', () => slow.promise, { ttl: '1m', grace: '1h' }),
    tiered.getOrSet('quote', () => slow.promise, { ttl: '1m', grace: '1h' }),
  ]);
  expect(answers).toEqual(['v1', 'v1']); // answered before the loader finished
  expect(tiered.stats().l1.graced).toBe(2);
  expect(tiered.stats().backgroundRefreshes).toBe(1);
  slow.resolve('v2');
  await tiered.idle();
  expect(await tiered.getOrSet('quote', loader)).toBe('v2');
  expect(l1.getEntry('quote')?.state).toBe('fresh');
});

test('a failing refresh serves the graced value and backs off before trying again', async () => {
  await tiered.getOrSet('quote', () => 'good', { ttl: '1m', grace: '1h' });
  clock.ms += 61_000;
  let calls = 0;
  const failing = async (): Promise<string> => {
    calls++;
    throw new Error('vendor 503');
  };
  expect(await tiered.getOrSet('quote', failing, { ttl: '1m', grace: '1h' })).toBe('good');
  await tiered.idle();
  expect(calls).toBe(1);
  // Backing off (1 s after the first failure): no new attempt yet.
  clock.ms += 500;
  expect(await tiered.getOrSet('quote', failing)).toBe('good');
  await tiered.idle();
  expect(calls).toBe(1);
  clock.ms += 600;
  expect(await tiered.getOrSet('quote', failing)).toBe('good');
  await tiered.idle();
  expect(calls).toBe(2);
  // The second failure doubles the wait: 1.5 s later is still too soon.
  clock.ms += 1500;
  await tiered.getOrSet('quote', failing);
  await tiered.idle();
  expect(calls).toBe(2);
  expect(tiered.stats().loader.errors).toBe(2);
  expect(errors.filter((e) => e.startsWith('load quote'))).toHaveLength(2);
});

test('a hard timeout rejects with code loader_timeout; nothing is cached', async () => {
  const never = new Promise<number>(() => {});
  await expect(tiered.getOrSet('slow', () => never, { hardTimeout: 20 })).rejects.toMatchObject({
    code: 'loader_timeout',
    name: 'TickcacheError',
  });
  expect(tiered.stats().loader.timeouts).toBe(1);
  expect(l1.has('slow')).toBe(false);
});

test('refresh-ahead: a fresh hit near the end of its TTL refreshes in the background', async () => {
  let n = 0;
  const loader = async (): Promise<number> => ++n;
  expect(await tiered.getOrSet('k', loader, { ttl: 100_000, refreshAhead: 0.2 })).toBe(1);
  clock.ms += 50_000;
  expect(await tiered.getOrSet('k', loader, { ttl: 100_000, refreshAhead: 0.2 })).toBe(1);
  await tiered.idle();
  expect(n).toBe(1); // half the TTL left: no refresh
  clock.ms += 35_000;
  expect(await tiered.getOrSet('k', loader, { ttl: 100_000, refreshAhead: 0.2 })).toBe(1);
  await tiered.idle();
  expect(n).toBe(2);
  expect(await tiered.getOrSet('k', loader)).toBe(2);
  expect(l1.remainingTtl('k')).toBe(100_000);
});

test('the global switch sends every call to the loader and caches nothing', async () => {
  let calls = 0;
  tiered.setEnabled(false);
  for (let i = 0; i < 3; i++) expect(await tiered.getOrSet('k', () => ++calls)).toBe(i + 1);
  expect(l1.size).toBe(0);
  expect(tiered.health().reasons).toContain('caching is switched off');
  tiered.setEnabled(true);
  expect(await tiered.getOrSet('k', () => ++calls)).toBe(4);
  expect(await tiered.getOrSet('k', () => ++calls)).toBe(4);
});

test('wrap caches a function by its arguments', async () => {
  let calls = 0;
  const history = tiered.wrap(async (symbol: string, days: number) => {
    calls++;
    return `${symbol}:${days}`;
  }, { prefix: 'history', ttl: '1h' });
  expect(await history('AAPL', 30)).toBe('AAPL:30');
  expect(await history('AAPL', 30)).toBe('AAPL:30');
  expect(await history('MSFT', 30)).toBe('MSFT:30');
  expect(calls).toBe(2);
  expect(l1.has('history:["AAPL",30]')).toBe(true);
});

test('warm loads what is missing with bounded concurrency', async () => {
  let running = 0;
  let peak = 0;
  await tiered.set('s:0', 'cached');
  const result = await tiered.warm(
    Array.from({ length: 20 }, (_, i) => `s:${i}`),
    async (key) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
      if (key === 's:13') throw new Error('no such symbol');
      return key;
    },
    { concurrency: 4 },
  );
  expect(result).toEqual({ loaded: 18, cached: 1, failed: 1 });
  expect(peak).toBe(4);
  expect(l1.size).toBe(19);
});

test('refresh keeps the version of an unchanged value and reports a change', async () => {
  let price = 10;
  const loader = async (): Promise<{ price: number }> => ({ price });
  const first = await tiered.getOrSetStored('p', loader);
  expect(await tiered.refresh('p', loader)).toBe(false);
  expect(l1.peek('p')?.value.version).toBe(first.version);
  price = 11;
  expect(await tiered.refresh('p', loader)).toBe(true);
  expect(l1.peek('p')?.value.version).not.toBe(first.version);
});

test('stats, health and Prometheus text', async () => {
  for (let i = 0; i < 9; i++) await tiered.getOrSet('hot', () => 1);
  await tiered.getOrSet('cold', () => 2);
  const stats = tiered.stats();
  expect(stats.l1).toMatchObject({ hits: 8, misses: 2 });
  expect(stats.hitRate).toBeCloseTo(0.8, 10);
  expect(stats.loader.calls).toBe(2);
  expect(stats.loader.latency.count).toBe(2);
  expect(tiered.health(0.75).status).toBe('ok');
  expect(tiered.health(0.9)).toMatchObject({ status: 'degraded' });
  const text = tiered.prometheus({ service: 'stocks' });
  expect(text).toContain('tickcache_requests_total{service="stocks",tier="l1",result="hit"} 8');
  expect(text).toContain('tickcache_requests_total{service="stocks",tier="l1",result="miss"} 2');
  expect(text).toContain('tickcache_loader_calls_total{service="stocks"} 2');
  expect(text).toMatch(/# TYPE tickcache_hit_ratio gauge\ntickcache_hit_ratio\{service="stocks"\} 0\.8/);
});

test('bad input is refused with a code and changes nothing', async () => {
  await tiered.set('keep', 1);
  await expect(tiered.getOrSet(42 as unknown as string, () => 1)).rejects.toMatchObject({ code: 'invalid_key' });
  await expect(tiered.getOrSet('k', 'not a function' as unknown as () => number)).rejects.toMatchObject({ code: 'invalid_argument' });
  await expect(tiered.getOrSet('k', () => 1, { hardTimeout: 'soon' })).rejects.toMatchObject({ code: 'invalid_ttl' });
  await expect(tiered.getOrSet('k', () => 1, { ttl: -1 })).rejects.toMatchObject({ code: 'invalid_ttl' });
  await expect(tiered.getOrSet('k', () => undefined)).rejects.toMatchObject({ code: 'invalid_value' });
  expect(await tiered.getOrSet('keep', () => 2)).toBe(1);
  expect(l1.size).toBe(1);
});

test('a loader past its hard timeout while a graced value exists: the graced value is served, the timeout counted', async () => {
  await tiered.getOrSet('quote', () => 'graced', { ttl: '1m', grace: '1h' });
  clock.ms += 61_000;
  const never = new Promise<string>(() => {});
  expect(await tiered.getOrSet('quote', () => never, { hardTimeout: 20 })).toBe('graced');
  await tiered.idle();
  expect(tiered.stats().loader.timeouts).toBe(1);
  expect(errors.some((e) => e.startsWith('load quote'))).toBe(true);
  expect(l1.getEntry('quote')?.value.value).toBe('graced');
});

test('the policy configuration carries the event map beside its rules', async () => {
  const withEvents = await createTieredCache({
    l1: {
      maxEntries: 100,
      config: {
        rules: [{ match: 'feed:*', ttl: '30s' }],
        events: { 'signal.created': { patterns: ['feed:*'], keys: ['provider:{providerId}:stats', 'leaderboard:top'] } },
      } as never,
    },
  });
  try {
    for (const key of ['feed:1', 'feed:2', 'provider:7:stats', 'provider:8:stats', 'leaderboard:top']) {
      await withEvents.set(key, key);
    }
    expect(withEvents.l1.remainingTtl('feed:1')).toBe(30_000); // the rules still reach the core
    expect(await withEvents.emit('signal.created', { providerId: 7 })).toEqual({ removed: 4 });
    expect(withEvents.l1.has('provider:8:stats')).toBe(true);
    expect(withEvents.l1.size).toBe(1);
    await expect(withEvents.emit('signal.created', {})).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(withEvents.emit('no.such.event')).rejects.toMatchObject({ code: 'invalid_argument' });
  } finally {
    await withEvents.close();
  }
});
