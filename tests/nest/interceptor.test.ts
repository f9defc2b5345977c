// tests/nest/interceptor.test.ts: TickCacheInterceptor over HTTP (issue 5, line 2): X-Cache MISS
// then HIT, then STALE past the TTL (fake clock) with the handler re-run in the background;
// ETag from the value's version (same value, same ETag; new value, new ETag); Cache-Control
// max-age = remaining TTL and stale-while-revalidate = grace; If-None-Match answered with a
// bodiless 304; 50 concurrent requests for one key -> 1 handler call, where Nest's own
// CacheInterceptor (cache-manager 7) calls the handler for each of them; @NoCache, non-GET
// methods, default keys (sorted query), tags from the route, handler errors (not cached) and
// the global switch.

import { Controller, Get, NotFoundException, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import request from 'supertest';

import type { TieredCache } from '../../js/src/index.js';
import { CacheRoute, NoCache, TICKCACHE, TickCacheInterceptor, TickCacheModule } from '../../js/src/nest/index.js';
import { FakeClock, bootApp, gate, waitFor } from './support/nest.js';

const CONCURRENT = 50;

class Market {
  prices: Record<string, number> = { AAPL: 190.5, MSFT: 410.25 };
  calls = 0;
  hold: Promise<void> | undefined;
}

function controllers(market: Market, interceptor: unknown) {
  @Controller('prices')
  @UseInterceptors(interceptor as typeof TickCacheInterceptor)
  class PriceController {
    @Get('boom/:symbol')
    @CacheRoute({ key: 'boom:{symbol}' })
    async boom(@Param('symbol') symbol: string): Promise<never> {
      market.calls++;
      await market.hold;
      throw new NotFoundException(`no symbol ${symbol}`);
    }

    @Get('plain/:symbol')
    @NoCache()
    plain(@Param('symbol') symbol: string): unknown {
      market.calls++;
      return { symbol };
    }

    @Get(':symbol')
    @CacheRoute({ key: 'price:latest:{symbol}', ttl: 10_000, grace: 30_000, tags: ['symbol:{symbol}'], visibility: 'public' })
    async latest(@Param('symbol') symbol: string): Promise<unknown> {
      market.calls++;
      await market.hold;
      const price = market.prices[symbol];
      if (price === undefined) throw new NotFoundException(`no symbol ${symbol}`);
      return { symbol, price };
    }

    @Get()
    list(@Query('limit') limit: string | undefined): unknown {
      market.calls++;
      return Object.keys(market.prices).slice(0, Number(limit ?? 10));
    }

    @Post(':symbol')
    update(@Param('symbol') symbol: string): unknown {
      market.calls++;
      return { updated: symbol };
    }
  }
  return PriceController;
}

describe('TickCacheInterceptor', () => {
  const clock = new FakeClock();
  const market = new Market();
  let app: INestApplication;
  let cache: TieredCache;
  let url: string;

  beforeAll(async () => {
    app = await bootApp({
      imports: [TickCacheModule.forRoot({ l1: { maxEntries: 1000, clock: clock.now }, clock: clock.now })],
      controllers: [controllers(market, TickCacheInterceptor)],
    });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    cache = app.get<TieredCache>(TICKCACHE);
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(async () => {
    await cache.clear();
    cache.setEnabled(true);
    market.calls = 0;
    market.hold = undefined;
    market.prices = { AAPL: 190.5, MSFT: 410.25 };
  });

  it('MISS, then HIT with the same ETag; Cache-Control from the remaining TTL and the grace', async () => {
    const first = await request(url).get('/prices/AAPL').expect(200);
    expect(first.body).toEqual({ symbol: 'AAPL', price: 190.5 });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.headers['etag']).toMatch(/^"[0-9a-z]+"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=30');

    clock.advance(3_500);
    const second = await request(url).get('/prices/AAPL').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers['etag']).toBe(first.headers['etag']);
    expect(second.body).toEqual(first.body);
    // 6.5 s of fresh time left: max-age counts down with the entry, the grace does not.
    expect(second.headers['cache-control']).toBe('public, max-age=6, stale-while-revalidate=30');
    expect(market.calls).toBe(1);
  });

  it('STALE within the grace: the old value at once, max-age=0, and the handler re-run in the background', async () => {
    const first = await request(url).get('/prices/MSFT').expect(200);
    market.prices['MSFT'] = 412;
    clock.advance(10_500);
    const stale = await request(url).get('/prices/MSFT').expect(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.body).toEqual({ symbol: 'MSFT', price: 410.25 });
    expect(stale.headers['etag']).toBe(first.headers['etag']);
    expect(stale.headers['cache-control']).toBe('public, max-age=0, stale-while-revalidate=29');
    await cache.idle(); // the background reload
    expect(market.calls).toBe(2);
    const fresh = await request(url).get('/prices/MSFT').expect(200);
    expect(fresh.headers['x-cache']).toBe('HIT');
    expect(fresh.body).toEqual({ symbol: 'MSFT', price: 412 });
    expect(fresh.headers['etag']).not.toBe(first.headers['etag']);
    expect(market.calls).toBe(2);
  });

  it('If-None-Match with the current ETag: 304 without a body or a handler call', async () => {
    const first = await request(url).get('/prices/AAPL').expect(200);
    const etag = first.headers['etag'] as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const revalidated = await request(url).get('/prices/AAPL').set('If-None-Match', header);
      expect(revalidated.status).toBe(304);
      expect(revalidated.text ?? '').toBe('');
      expect(revalidated.headers['etag']).toBe(etag);
      expect(revalidated.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=30');
      expect(revalidated.headers['x-cache']).toBe('HIT');
    }
    const other = await request(url).get('/prices/AAPL').set('If-None-Match', '"not-it"').expect(200);
    expect(other.body).toEqual(first.body);
    expect(market.calls).toBe(1);
  });

  it('a reload with the same value keeps the ETag (304 still valid); a new value changes it (200)', async () => {
    const first = await request(url).get('/prices/AAPL').expect(200);
    const etag = first.headers['etag'] as string;
    await cache.delete('price:latest:AAPL');
    await request(url).get('/prices/AAPL').set('If-None-Match', etag).expect(304);
    expect(market.calls).toBe(2);
    market.prices['AAPL'] = 191;
    await cache.delete('price:latest:AAPL');
    const changed = await request(url).get('/prices/AAPL').set('If-None-Match', etag).expect(200);
    expect(changed.body).toEqual({ symbol: 'AAPL', price: 191 });
    expect(changed.headers['etag']).not.toBe(etag);
  });

  it(`${CONCURRENT} concurrent requests for one key make one handler call`, async () => {
    const release = gate();
    market.hold = release.promise;
    const coalescedBefore = cache.stats().coalesced;
    const responses = Array.from({ length: CONCURRENT }, () => request(url).get('/prices/AAPL').then((r) => r));
    // Every request but the first is waiting on the first one's load before the handler may finish.
    await waitFor(() => cache.stats().coalesced - coalescedBefore === CONCURRENT - 1, `${CONCURRENT - 1} coalesced requests`);
    release.open();
    const done = await Promise.all(responses);
    expect(market.calls).toBe(1);
    expect(done.map((r) => r.status)).toEqual(Array(CONCURRENT).fill(200));
    expect(new Set(done.map((r) => JSON.stringify(r.body)))).toEqual(new Set([JSON.stringify({ symbol: 'AAPL', price: 190.5 })]));
    expect(new Set(done.map((r) => r.headers['etag'])).size).toBe(1);
  });

  it('a handler error reaches every waiting request and is not cached', async () => {
    const release = gate();
    market.hold = release.promise;
    const coalescedBefore = cache.stats().coalesced;
    const responses = Array.from({ length: 5 }, () => request(url).get('/prices/boom/ZZZ').then((r) => r));
    await waitFor(() => cache.stats().coalesced - coalescedBefore === 4, '4 coalesced requests');
    release.open();
    expect((await Promise.all(responses)).map((r) => r.status)).toEqual([404, 404, 404, 404, 404]);
    expect(market.calls).toBe(1);
    await request(url).get('/prices/boom/ZZZ').expect(404);
    expect(market.calls).toBe(2);
  });

  it('route tags: invalidating the symbol tag makes the next request a MISS', async () => {
    await request(url).get('/prices/AAPL').expect(200);
    expect(await cache.invalidateTags(['symbol:AAPL'])).toBe(1);
    const again = await request(url).get('/prices/AAPL').expect(200);
    expect(again.headers['x-cache']).toBe('MISS');
    expect(market.calls).toBe(2);
  });

  it('without @CacheRoute the key is the path with the query sorted (same request, same key)', async () => {
    const a = await request(url).get('/prices?limit=1&x=2').expect(200);
    const b = await request(url).get('/prices?x=2&limit=1').expect(200);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(b.headers['x-cache']).toBe('HIT');
    expect(cache.l1.peek('http:/prices?limit=1&x=2')?.value.value).toEqual(['AAPL']);
    expect(market.calls).toBe(1);
  });

  it('@NoCache routes and non-GET methods pass through untouched', async () => {
    const plain = await request(url).get('/prices/plain/AAPL').expect(200);
    await request(url).get('/prices/plain/AAPL').expect(200);
    expect(plain.headers['x-cache']).toBeUndefined();
    const posted = await request(url).post('/prices/AAPL').expect(201);
    await request(url).post('/prices/AAPL').expect(201);
    expect(posted.headers['x-cache']).toBeUndefined();
    expect(market.calls).toBe(4);
  });

  it('with caching switched off every request calls the handler: MISS, no ETag, no-cache', async () => {
    cache.setEnabled(false);
    const first = await request(url).get('/prices/AAPL').expect(200);
    const second = await request(url).get('/prices/AAPL').expect(200);
    for (const response of [first, second]) {
      expect(response.headers['x-cache']).toBe('MISS');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toEqual({ symbol: 'AAPL', price: 190.5 });
    }
    expect(first.headers['etag']).not.toMatch(/^"[0-9a-z]+"$/); // Express's own weak ETag at most
    expect(market.calls).toBe(2);
  });
});

describe("Nest's own CacheInterceptor (cache-manager 7), for comparison", () => {
  it(`calls the handler for each of ${CONCURRENT} concurrent misses: it does not coalesce`, async () => {
    const market = new Market();
    const release = gate();
    market.hold = release.promise;
    const app = await bootApp({
      imports: [CacheModule.register({ ttl: 10_000 })],
      controllers: [controllers(market, CacheInterceptor)],
    });
    try {
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();
      const responses = Array.from({ length: CONCURRENT }, () => request(url).get('/prices/AAPL').then((r) => r));
      try {
        await waitFor(() => market.calls === CONCURRENT, `all ${CONCURRENT} requests in the handler`);
      } finally {
        release.open();
      }
      expect((await Promise.all(responses)).every((r) => r.status === 200)).toBe(true);
      expect(market.calls).toBe(CONCURRENT);
    } finally {
      await app.close();
    }
  });
});
