// tests/nest/keyv-store.test.ts: tickcache as a drop-in store for @nestjs/cache-manager 12 /
// cache-manager 7 / keyv 5 (issue 5, line 1). The same Nest app (CACHE_MANAGER get/set/del/wrap
// and Nest's CacheInterceptor) runs once on @keyv/redis and once on tickcache: the only
// difference is the store expression, one line. Then the adapter itself: every KeyvStoreAdapter
// call through Keyv, TTLs in ms reaching the store (expiry on a fake clock), clear() limited to
// Keyv's namespace, two instances over one Redis (a write in one replaces the other's L1 copy),
// Redis down -> a miss and an 'error' event, not a rejection, and disconnect() closing the
// Redis connections of a store that created its cache.

import { Controller, Get, Inject, Injectable, Param, UseInterceptors } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { CACHE_MANAGER, CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import type { Cache as CacheManager } from 'cache-manager';
import { Keyv } from 'keyv';
import request from 'supertest';

import { createCacheSync, createTieredCache } from '../../js/src/index.js';
import type { TieredCache } from '../../js/src/index.js';
import { tickcacheKeyvStore } from '../../js/src/nest/index.js';
import { startRedis } from '../service/support/redis.js';
import type { RedisServer } from '../service/support/redis.js';
import { FakeClock, bootApp, redisClients, waitFor } from './support/nest.js';

const LONG = 30_000;
let redis: RedisServer;
let redisUrl: string;

beforeAll(async () => {
  redis = await startRedis('nest-keyv');
  redisUrl = `redis://127.0.0.1:${redis.port}`;
}, LONG);

afterAll(async () => {
  await redis?.teardown();
}, LONG);

// ---- the same app on two stores ---------------------------------------------------------

let vendorCalls = 0;

@Injectable()
class QuoteService {
  constructor(@Inject(CACHE_MANAGER) readonly cache: CacheManager) {}
  quote(symbol: string): Promise<{ symbol: string; price: number }> {
    return this.cache.wrap(`quote:${symbol}`, async () => {
      vendorCalls++;
      return { symbol, price: 100 + symbol.length };
    });
  }
}

@Controller('quotes')
@UseInterceptors(CacheInterceptor)
class QuoteController {
  constructor(@Inject(QuoteService) private readonly quotes: QuoteService) {}
  @Get(':symbol')
  get(@Param('symbol') symbol: string): Promise<unknown> {
    return this.quotes.quote(symbol);
  }
}

const STORES: Array<[string, (namespace: string) => unknown]> = [
  ['@keyv/redis', () => new KeyvRedis(redisUrl)],
  // The one-line switch:
  ['tickcache', (namespace) => tickcacheKeyvStore({ l1: { maxEntries: 1000 }, redis: { url: redisUrl, namespace } })],
];

describe.each(STORES)('@nestjs/cache-manager with stores: [%s]', (name, makeStore) => {
  let app: INestApplication;
  let cacheManager: CacheManager;
  let clientsBefore: number;

  beforeAll(async () => {
    clientsBefore = await redisClients(redis.port);
    app = await bootApp({
      imports: [CacheModule.register({ stores: [makeStore(`drop-in-${name}:`) as never], ttl: 60_000 })],
      providers: [QuoteService],
      controllers: [QuoteController],
    });
    cacheManager = app.get(CACHE_MANAGER);
    await cacheManager.clear();
  }, LONG);

  afterAll(async () => {
    await app?.close();
    // cache-manager disconnects its stores on module destroy: no connection left behind.
    await waitFor(async () => (await redisClients(redis.port)) === clientsBefore, `${name}'s connections to close`);
  }, LONG);

  it('get / set (ttl ms) / del', async () => {
    expect(await cacheManager.get('missing')).toBeUndefined();
    await cacheManager.set('symbols:list', ['AAPL', 'MSFT'], 5_000);
    expect(await cacheManager.get('symbols:list')).toEqual(['AAPL', 'MSFT']);
    expect(await cacheManager.ttl('symbols:list')).toBeGreaterThan(Date.now());
    await cacheManager.del('symbols:list');
    expect(await cacheManager.get('symbols:list')).toBeUndefined();
    await cacheManager.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: { nested: [true, null, 'x'] } },
    ]);
    expect(await cacheManager.mget(['a', 'b', 'c'])).toEqual([1, { nested: [true, null, 'x'] }, undefined]);
  });

  it('wrap calls the function once, then answers from the store', async () => {
    vendorCalls = 0;
    const quotes = app.get(QuoteService);
    expect(await quotes.quote('IBM')).toEqual({ symbol: 'IBM', price: 103 });
    expect(await quotes.quote('IBM')).toEqual({ symbol: 'IBM', price: 103 });
    expect(vendorCalls).toBe(1);
  });

  it("Nest's CacheInterceptor serves the second request from the store", async () => {
    vendorCalls = 0;
    await cacheManager.clear();
    const first = await request(app.getHttpServer()).get('/quotes/NVDA').expect(200);
    await cacheManager.del('quote:NVDA'); // only the interceptor's entry (keyed by URL) is left
    const second = await request(app.getHttpServer()).get('/quotes/NVDA').expect(200);
    expect(second.body).toEqual(first.body);
    expect(vendorCalls).toBe(1);
  });
});

// ---- the adapter itself -------------------------------------------------------------------

describe('TickcacheKeyvStore through Keyv', () => {
  it('implements the KeyvStoreAdapter calls over a plain tickcache Cache', async () => {
    const cache = createCacheSync<unknown>({ maxEntries: 100 });
    const store = tickcacheKeyvStore(cache);
    const keyv = new Keyv({ store, namespace: 'app' });
    try {
      expect(store.namespace).toBe('app');
      expect(await keyv.set('k1', { a: 1 })).toBe(true);
      expect(await keyv.get('k1')).toEqual({ a: 1 });
      expect(cache.has('app:k1')).toBe(true); // Keyv's prefix, kept by the store
      expect(await keyv.has('k1')).toBe(true);
      expect(await keyv.has('nope')).toBe(false);
      await keyv.setMany([
        { key: 'k2', value: 2 },
        { key: 'k3', value: 3 },
      ]);
      expect(await keyv.getMany(['k1', 'k2', 'k3', 'k4'])).toEqual([{ a: 1 }, 2, 3, undefined]);
      expect(await keyv.hasMany(['k2', 'k4'])).toEqual([true, false]);
      expect(await keyv.delete('k2')).toBe(true);
      expect(await keyv.delete('k2')).toBe(false);
      expect(await keyv.deleteMany(['k3', 'k4'])).toBe(true);
      expect(await keyv.get('k3')).toBeUndefined();
      // clear() removes this namespace only.
      cache.set('other:keep', 'x');
      await keyv.clear();
      expect(await keyv.get('k1')).toBeUndefined();
      expect(cache.get('other:keep')).toBe('x');
      await keyv.disconnect();
      expect(cache.get('other:keep')).toBe('x'); // a cache it was given stays open
    } finally {
      cache.close();
    }
  });

  it("Keyv's TTL (ms) reaches every tier: the entry expires in the store itself", async () => {
    const clock = new FakeClock();
    const tiered = await createTieredCache({ l1: { maxEntries: 100, clock: clock.now }, clock: clock.now });
    const store = tickcacheKeyvStore(tiered);
    const keyv = new Keyv({ store });
    try {
      await keyv.set('quote:AAPL', 190, 2_000);
      expect(tiered.l1.peek('keyv:quote:AAPL')?.ttl).toBe(2_000);
      clock.advance(1_999);
      expect(await store.get('keyv:quote:AAPL')).toBeDefined();
      clock.advance(2);
      // Asked directly (not through Keyv, which checks its own expiry too): the store dropped it.
      expect(await store.get('keyv:quote:AAPL')).toBeUndefined();
    } finally {
      await tiered.close();
    }
  });

  it('refuses a source that is not a cache or options', () => {
    expect(() => tickcacheKeyvStore(42 as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  describe('two instances over one Redis', () => {
    let a: TieredCache;
    let b: TieredCache;
    let keyvA: Keyv;
    let keyvB: Keyv;
    const errorsB: unknown[] = [];

    beforeAll(async () => {
      const options = { l1: { maxEntries: 100 }, redis: { url: redisUrl, namespace: 'keyv-pair:' } };
      a = await createTieredCache(options);
      b = await createTieredCache(options);
      keyvA = new Keyv({ store: tickcacheKeyvStore(a) });
      keyvB = new Keyv({ store: tickcacheKeyvStore(b) });
      keyvB.on('error', (error: unknown) => errorsB.push(error));
    }, LONG);

    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('a value written by one is read by the other (L2), and a rewrite replaces its L1 copy', async () => {
      await keyvA.set('price:AAPL', 190, 60_000);
      expect(await keyvB.get('price:AAPL')).toBe(190);
      expect(b.l1.peek('keyv:price:AAPL')).toBeDefined(); // the L2 hit filled B's L1
      await keyvA.set('price:AAPL', 191, 60_000);
      await waitFor(() => b.l1.peek('keyv:price:AAPL') === undefined, "the rewrite to drop B's L1 copy");
      expect(await keyvB.get('price:AAPL')).toBe(191);
      await keyvA.delete('price:AAPL');
      await waitFor(() => b.l1.peek('keyv:price:AAPL') === undefined, "the delete to reach B's L1");
      expect(await keyvB.get('price:AAPL')).toBeUndefined();
    });

    it('with Redis down a read of a key not in L1 is a miss and an error event, not a rejection', async () => {
      await keyvA.set('only-in-l2', 1, 60_000);
      await redis.stop();
      try {
        expect(await keyvB.get('only-in-l2')).toBeUndefined();
        expect(errorsB.length).toBeGreaterThan(0);
      } finally {
        await redis.start();
      }
    }, LONG);
  });

  it('disconnect() closes the Redis connections of a cache the store created', async () => {
    const before = await redisClients(redis.port);
    const keyv = new Keyv({ store: tickcacheKeyvStore({ l1: { maxEntries: 10 }, redis: { url: redisUrl, namespace: 'own:' } }) });
    await keyv.set('x', 1);
    expect(await redisClients(redis.port)).toBeGreaterThan(before);
    await keyv.disconnect();
    await waitFor(async () => (await redisClients(redis.port)) === before, 'the store connections to close');
    await expect(keyv.store.get('keyv:x')).rejects.toMatchObject({ code: 'closed' });
  }, LONG);
});
