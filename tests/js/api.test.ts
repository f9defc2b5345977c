// tests/js/api.test.ts: the TypeScript API on this project's backend (jest.config.cjs runs the
// file once on native, once on wasm), in both value modes. Time is a fake clock: no test sleeps.

import { BACKEND, FakeClock, makeCache } from './support/harness.js';
import type { ValueMode } from 'tickcache';

const MODES: ValueMode[] = ['object', 'bytes'];

test('the cache reports the backend this project forces', async () => {
  const cache = await makeCache({ maxEntries: 10 });
  expect(cache.backend).toBe(BACKEND);
  expect(cache.backendInfo.backend).toBe(BACKEND);
  expect(cache.stats().backend).toBe(BACKEND);
});

describe.each(MODES)('%s mode', (mode) => {
  test('set, get, peek, has, delete', async () => {
    const cache = await makeCache<{ price: number }>({ maxEntries: 100, mode });
    expect(cache.mode).toBe(mode);
    expect(cache.get('price:AAPL')).toBeUndefined();
    cache.set('price:AAPL', { price: 189.5 });
    expect(cache.get('price:AAPL')).toEqual({ price: 189.5 });
    expect(cache.has('price:AAPL')).toBe(true);
    expect(cache.peek('price:AAPL')).toEqual({ value: { price: 189.5 }, state: 'fresh', ttl: Infinity, staleTtl: Infinity });
    expect(cache.size).toBe(1);
    cache.set('price:AAPL', { price: 190 });
    expect(cache.get('price:AAPL')).toEqual({ price: 190 });
    expect(cache.size).toBe(1);
    expect(cache.delete('price:AAPL')).toBe(true);
    expect(cache.delete('price:AAPL')).toBe(false);
    expect(cache.get('price:AAPL')).toBeUndefined();
    expect(cache.has('price:AAPL')).toBe(false);
    expect(cache.size).toBe(0);
  });

  test('values: objects by reference in object mode, copies in bytes mode; bytes pass through', async () => {
    const cache = await makeCache<unknown>({ maxEntries: 100, mode });
    const quote = { symbol: 'MSFT', bid: [1, 2, 3] };
    cache.set('quote', quote);
    if (mode === 'object') {
      expect(cache.get('quote')).toBe(quote);
    } else {
      expect(cache.get('quote')).not.toBe(quote);
      expect(cache.get('quote')).toEqual(quote);
    }
    const bytes = new Uint8Array([0, 1, 2, 255]);
    cache.set('raw', bytes);
    const back = cache.get('raw') as Uint8Array;
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Array.from(back)).toEqual([0, 1, 2, 255]);
    cache.set('text', 'a string, not bytes');
    expect(cache.get('text')).toBe('a string, not bytes');
    cache.set('zero', 0);
    cache.set('null', null);
    expect(cache.get('zero')).toBe(0);
    expect(cache.get('null')).toBeNull();
    expect(cache.has('null')).toBe(true);
  });

  test('TTL, grace and remaining times follow the clock; strings and ms mean the same', async () => {
    const clock = new FakeClock();
    const cache = await makeCache<string>({ maxEntries: 100, mode, clock: clock.now });
    cache.set('a', 'A', { ttl: '5m', grace: '1h' });
    cache.set('b', 'B', { ttl: 300_000, grace: 3_600_000 });
    cache.set('c', 'C', { ttl: '90s' });
    for (const key of ['a', 'b']) {
      expect(cache.getEntry(key)).toEqual({ value: key.toUpperCase(), state: 'fresh', ttl: 300_000, staleTtl: 3_900_000 });
    }
    expect(cache.remainingTtl('c')).toBe(90_000);
    clock.advance(90_000);
    expect(cache.get('c')).toBeUndefined();
    expect(cache.remainingTtl('c')).toBeUndefined();
    clock.advance(300_000 - 90_000);
    // Stale: still served within grace, and getEntry says so.
    expect(cache.get('a')).toBe('A');
    expect(cache.getEntry('b')).toEqual({ value: 'B', state: 'stale', ttl: 0, staleTtl: 3_600_000 });
    expect(cache.remainingTtl('a')).toBe(0);
    clock.advance(3_600_000);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.has('b')).toBe(false);
    // A read may expire what it finds due (bytes mode reads in the core), maintenance the rest.
    expect(cache.maintenance()).toBeGreaterThanOrEqual(1);
    expect(cache.size).toBe(0);
    const stats = cache.stats();
    expect(stats.staleHits).toBe(2);
    expect(stats.expirations).toBe(3);
  });

  test('defaultTtl and the policy config rules decide when a call gives no TTL', async () => {
    const clock = new FakeClock();
    const cache = await makeCache({
      maxEntries: 100,
      mode,
      clock: clock.now,
      defaultTtl: '10s',
      config: { rules: [{ match: 'price:latest:*', ttl: '5m', grace: '1h', tags: ['prices'] }] },
    });
    cache.set('price:latest:AAPL', 1);
    cache.set('other', 2);
    expect(cache.peek('price:latest:AAPL')?.ttl).toBe(300_000);
    expect(cache.peek('price:latest:AAPL')?.staleTtl).toBe(3_900_000);
    expect(cache.peek('other')?.ttl).toBe(10_000);
    cache.set('other', 3, { ttl: 'never' });
    expect(cache.peek('other')?.ttl).toBe(Infinity);
    expect(cache.invalidateTag('prices')).toBe(1);
    expect(cache.get('price:latest:AAPL')).toBeUndefined();
  });

  test('getMany and setMany', async () => {
    const cache = await makeCache<number>({ maxEntries: 100, mode });
    cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2, ttl: '1m', tags: ['t'] },
    ]);
    expect(cache.getMany(['a', 'x', 'b'])).toEqual([1, undefined, 2]);
    expect(cache.invalidateTag('t')).toBe(1);
    expect(cache.getMany(['a', 'b'])).toEqual([1, undefined]);
  });

  test('invalidation by tag, prefix and pattern returns the count and spares the rest', async () => {
    const cache = await makeCache<string>({ maxEntries: 1000, mode });
    for (const symbol of ['AAPL', 'MSFT', 'NVDA']) {
      cache.set(`price:${symbol}`, symbol, { tags: [`symbol:${symbol}`] });
      cache.set(`feed:${symbol}`, symbol, { tags: [`symbol:${symbol}`, 'feed'] });
      cache.set(`history:30d:${symbol}`, symbol);
    }
    expect(cache.invalidateTag('symbol:AAPL')).toBe(2);
    expect(cache.get('price:AAPL')).toBeUndefined();
    expect(cache.get('feed:AAPL')).toBeUndefined();
    expect(cache.get('history:30d:AAPL')).toBe('AAPL');
    expect(cache.invalidatePrefix('history:')).toBe(3);
    expect(cache.invalidatePattern('*:MSFT')).toBe(2);
    expect(cache.invalidatePattern('feed:*')).toBe(1);
    expect(cache.invalidateTag('no such tag')).toBe(0);
    expect(cache.getMany(['price:NVDA', 'feed:NVDA', 'price:MSFT'])).toEqual(['NVDA', undefined, undefined]);
    expect(cache.size).toBe(1);
    expect(cache.clear()).toBe(1);
    expect(cache.size).toBe(0);
    expect(cache.get('price:NVDA')).toBeUndefined();
    cache.set('after:clear', 'works');
    expect(cache.get('after:clear')).toBe('works');
  });

  test('stats count hits, stale hits and misses the same way in both modes', async () => {
    const clock = new FakeClock();
    const cache = await makeCache({ maxEntries: 100, mode, clock: clock.now });
    cache.set('a', 1, { ttl: 1000, grace: 1000 });
    for (let i = 0; i < 3000; i++) cache.get('a'); // more reads than the object-mode read buffer keeps
    for (let i = 0; i < 300; i++) cache.get(`miss${i}`);
    clock.advance(1500);
    cache.get('a');
    const stats = cache.stats();
    expect(stats.hits).toBe(3000);
    expect(stats.staleHits).toBe(1);
    expect(stats.misses).toBe(300);
    expect(stats.sets).toBe(1);
    expect(stats.mode).toBe(mode);
    expect(stats.hitRate).toBeCloseTo(3001 / 3301, 6);
  });

  test('the bounds hold and an evicted entry is gone from every view of the cache', async () => {
    const cache = await makeCache<number>({ maxEntries: 50, mode, policy: 'lru' });
    for (let i = 0; i < 500; i++) {
      cache.set(`k${i}`, i);
      expect(cache.size).toBeLessThanOrEqual(50);
    }
    let present = 0;
    for (let i = 0; i < 500; i++) {
      const value = cache.get(`k${i}`);
      if (value !== undefined) {
        expect(value).toBe(i);
        present++;
      }
      expect(cache.has(`k${i}`)).toBe(value !== undefined);
    }
    expect(present).toBe(cache.size);
    expect(cache.get('k499')).toBe(499);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.stats().evictions).toBe(450);
  });

  test('hits reach the policy: under LRU a read entry outlives an unread one', async () => {
    const cache = await makeCache<string>({ maxEntries: 3, mode, policy: 'lru', shards: 1 });
    cache.set('a', 'A');
    cache.set('b', 'B');
    cache.set('c', 'C');
    expect(cache.get('a')).toBe('A');
    cache.set('d', 'D');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
  });

  test('add writes only when no live entry holds the key: fresh and stale keep it, expired does not', async () => {
    const clock = new FakeClock();
    const cache = await makeCache<{ owner: string }>({ maxEntries: 100, mode, clock: clock.now });
    const first = { owner: 'first' };
    expect(cache.add('lock:a', first, { ttl: 1000, grace: 500, tags: ['locks'] })).toBe(true);
    expect(cache.getEntry('lock:a')).toEqual({ value: first, state: 'fresh', ttl: 1000, staleTtl: 1500 });
    // Fresh, then stale up to its last ms: refused, and what is held is the first add's.
    for (const step of [0, 999, 1, 499]) {
      clock.advance(step);
      expect(cache.add('lock:a', { owner: 'later' }, { ttl: '1m', tags: ['other'] })).toBe(false);
      expect(cache.get('lock:a')).toEqual(first);
      if (mode === 'object') expect(cache.get('lock:a')).toBe(first);
    }
    expect(cache.peek('lock:a')).toEqual({ value: first, state: 'stale', ttl: 0, staleTtl: 1 });
    expect(cache.stats().sets).toBe(1);
    expect(cache.invalidateTag('other')).toBe(0);
    // At its stale time the entry is gone: replaced, with the new options.
    clock.advance(1);
    const second = { owner: 'second' };
    expect(cache.add('lock:a', second, { ttl: '2s' })).toBe(true);
    expect(cache.getEntry('lock:a')).toEqual({ value: second, state: 'fresh', ttl: 2000, staleTtl: 2000 });
    if (mode === 'object') expect(cache.get('lock:a')).toBe(second);
    expect(cache.stats().sets).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.invalidateTag('locks')).toBe(0);
    // Deleted or invalidated: absent again; no options: the cache's defaults.
    expect(cache.delete('lock:a')).toBe(true);
    expect(cache.add('lock:a', first)).toBe(true);
    expect(cache.peek('lock:a')?.ttl).toBe(Infinity);
    expect(cache.add('lock:b', first, { tags: ['t'] })).toBe(true);
    expect(cache.invalidateTag('t')).toBe(1);
    expect(cache.add('lock:b', second)).toBe(true);
    expect(cache.get('lock:b')).toEqual(second);
  });

  test('add checks what set checks and changes nothing when it throws', async () => {
    const cache = await makeCache<unknown>({ maxEntries: 100, mode, maxKeyBytes: 16 });
    cache.set('held', 'kept', { ttl: '1m' });
    const calls: Array<[string, () => unknown]> = [
      ['empty_key', () => cache.add('', 1)],
      ['key_too_large', () => cache.add('k'.repeat(17), 1)],
      ['invalid_key', () => (cache.add as (...args: unknown[]) => boolean)(7, 1)],
      ['invalid_value', () => cache.add('held', undefined)],
      ['invalid_ttl', () => cache.add('held', 1, { ttl: -1 })],
      ['invalid_ttl', () => cache.add('absent', 1, { grace: 'never' })],
      ['invalid_tags', () => cache.add('absent', 1, { tags: ['a', 7 as unknown as string] })],
      ['invalid_argument', () => (cache.add as (...args: unknown[]) => boolean)('absent', 1, '5m')],
    ];
    for (const [code, call] of calls) {
      expect(call).toThrow(expect.objectContaining({ code, name: 'TickcacheError' }));
      expect(cache.size).toBe(1);
      expect(cache.peek('held')?.value).toBe('kept');
      expect(cache.has('absent')).toBe(false);
    }
    expect(cache.stats().sets).toBe(1);
    cache.close();
    expect(() => cache.add('absent', 1)).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  test('an add that evicts leaves the evicted entry gone from every view', async () => {
    const cache = await makeCache<string>({ maxEntries: 2, mode, policy: 'lru', shards: 1 });
    expect(cache.add('a', 'A')).toBe(true);
    expect(cache.add('b', 'B')).toBe(true);
    expect(cache.add('a', 'not A')).toBe(false); // refused: not an access either
    expect(cache.add('c', 'C')).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.has('a')).toBe(false);
    expect(cache.getMany(['b', 'c'])).toEqual(['B', 'C']);
    expect(cache.size).toBe(2);
    expect(cache.stats().evictions).toBe(1);
    expect(cache.add('a', 'A again')).toBe(true);
    expect(cache.get('a')).toBe('A again');
  });

  test('a byte bound keeps charged bytes within it', async () => {
    const cache = await makeCache<string>({ maxBytes: 64 * 1024, mode, shards: 1 });
    for (let i = 0; i < 5000; i++) {
      cache.set(`key:${i}`, 'x'.repeat(100));
      expect(cache.bytes).toBeLessThanOrEqual(64 * 1024);
    }
    expect(cache.size).toBeGreaterThan(0);
  });
});

test('bytes mode takes a serializer', async () => {
  const calls: string[] = [];
  const cache = await makeCache<string>({
    maxEntries: 10,
    mode: 'bytes',
    serializer: {
      serialize: (value) => {
        calls.push('serialize');
        return new TextEncoder().encode(`<${String(value)}>`);
      },
      deserialize: (bytes) => {
        calls.push('deserialize');
        return new TextDecoder().decode(bytes).slice(1, -1);
      },
    },
  });
  cache.set('k', 'value');
  expect(cache.get('k')).toBe('value');
  expect(calls).toEqual(['serialize', 'deserialize']);
  cache.set('raw', new Uint8Array([7]) as unknown as string);
  expect(Array.from(cache.get('raw') as unknown as Uint8Array)).toEqual([7]);
  expect(calls).toEqual(['serialize', 'deserialize']);
});

test('a market-hours TTL rule gives the same answers on this backend as the core suite pins', async () => {
  // 2026-11-27 is the day after Thanksgiving (NYSE closes at 13:00 New York, 18:00 UTC).
  let now = Date.UTC(2026, 10, 27, 17, 0, 0); // 12:00 in New York: open
  const cache = await makeCache({
    maxEntries: 100,
    clock: () => now,
    config: {
      rules: [{ match: 'price:latest:*', grace: '1h', marketHours: { calendar: 'nyse', open: '5m', closed: 'untilOpen' } }],
    },
  });
  cache.set('price:latest:AAPL', 1);
  expect(cache.remainingTtl('price:latest:AAPL')).toBe(5 * 60_000);
  now = Date.UTC(2026, 10, 27, 19, 0, 0); // 14:00: closed early; next open Monday 2026-11-30 09:30 (14:30 UTC)
  cache.set('price:latest:AAPL', 2);
  expect(cache.remainingTtl('price:latest:AAPL')).toBe(Date.UTC(2026, 10, 30, 14, 30, 0) - now);
  expect(cache.peek('price:latest:AAPL')?.staleTtl).toBe(Date.UTC(2026, 10, 30, 14, 30, 0) - now + 3_600_000);
});
