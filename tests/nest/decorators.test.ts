// tests/nest/decorators.test.ts: @Cacheable and @CacheEvict on Nest providers (issue 5, line 2):
// keys from argument templates ({0}, {0.symbol}), functions and the default (stable under
// object key order); ttl, grace and tags reach the cache; concurrent calls coalesce; evictions
// by key, tag, pattern (argument values escaped), prefix, event (the module's event map) and
// all, only after the method succeeded unless beforeInvocation; bad arguments refused before
// the method runs; route metadata of @Get survives in either decorator order.

import { Controller, Get, Injectable, Param } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';

import type { TieredCache } from '../../js/src/index.js';
import { CacheEvict, Cacheable, TICKCACHE, TickCacheModule } from '../../js/src/nest/index.js';
import { FakeClock, bootApp, gate } from './support/nest.js';

interface Quote {
  symbol: string;
  price: number;
}

class Vendor {
  calls: string[] = [];
  prices: Record<string, number> = { AAPL: 190, MSFT: 410, 'A*': 1, AB: 2 };
  hold: Promise<void> | undefined;
  fail = false;
}
const vendor = new Vendor();

@Injectable()
class QuoteService {
  @Cacheable({ key: 'price:latest:{0}', ttl: 60_000, grace: 30_000, tags: ['symbol:{0}'] })
  async latest(symbol: string): Promise<Quote> {
    vendor.calls.push(`latest ${symbol}`);
    await vendor.hold;
    return { symbol, price: vendor.prices[symbol] ?? 0 };
  }

  @Cacheable({ key: 'history:{0.symbol}:{0.days}d' })
  async history(query: { symbol: string; days: number }): Promise<number[]> {
    vendor.calls.push(`history ${query.symbol}`);
    return Array.from({ length: query.days }, (_, i) => i);
  }

  @Cacheable({ key: (userId: string, cursor: number) => `feed:${userId}:${cursor}` })
  async feed(userId: string, cursor: number): Promise<string> {
    vendor.calls.push(`feed ${userId}`);
    return `${userId}@${cursor}`;
  }

  @Cacheable()
  async screen(filter: Record<string, unknown>): Promise<number> {
    vendor.calls.push('screen');
    return Object.keys(filter).length;
  }

  @CacheEvict({ keys: 'price:latest:{0}' })
  async updatePrice(symbol: string, price: number): Promise<void> {
    if (vendor.fail) throw new Error('write failed');
    vendor.prices[symbol] = price;
  }

  @CacheEvict({ keys: 'price:latest:{0}', beforeInvocation: true })
  async updateEvictFirst(symbol: string): Promise<void> {
    if (vendor.fail) throw new Error('write failed');
    void symbol;
  }

  @CacheEvict({ tags: ['symbol:{0}'] })
  async split(symbol: string): Promise<string> {
    return `split ${symbol}`;
  }

  @CacheEvict({ patterns: ['price:latest:{0}'] })
  async dropPattern(symbol: string): Promise<void> {
    void symbol;
  }

  @CacheEvict({ prefixes: ['feed:{0}:'] })
  async dropFeed(userId: string): Promise<void> {
    void userId;
  }

  @CacheEvict({ event: 'trade.executed' })
  async trade(trade: { userId: string; symbol: string }): Promise<string> {
    return `traded ${trade.symbol}`;
  }

  @CacheEvict({ event: 'price.updated', data: (pair: string) => ({ assetPair: pair }) })
  async priceEvent(pair: string): Promise<void> {
    void pair;
  }

  @CacheEvict({ all: true })
  async reset(): Promise<void> {}
}

@Controller('q')
class QuoteController {
  // @Cacheable applied first (below @Get), then @Get: the route metadata lands on the wrapper.
  @Get('a/:symbol')
  @Cacheable({ key: 'route-a:{0}' })
  async a(@Param('symbol') symbol: string): Promise<Quote> {
    vendor.calls.push(`a ${symbol}`);
    return { symbol, price: 1 };
  }

  // @Get applied first: its metadata is copied from the original method to the wrapper.
  @Cacheable({ key: 'route-b:{0}' })
  @Get('b/:symbol')
  async b(@Param('symbol') symbol: string): Promise<Quote> {
    vendor.calls.push(`b ${symbol}`);
    return { symbol, price: 2 };
  }
}

describe('@Cacheable and @CacheEvict', () => {
  const clock = new FakeClock();
  let app: INestApplication;
  let cache: TieredCache;
  let quotes: QuoteService;

  beforeAll(async () => {
    app = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          l1: { maxEntries: 1000, clock: clock.now },
          clock: clock.now,
          events: {
            'trade.executed': { prefixes: ['feed:{userId}:'], keys: ['portfolio:{userId}'] },
            'price.updated': { keys: ['price:latest:{assetPair}'] },
          },
        }),
      ],
      providers: [QuoteService],
      controllers: [QuoteController],
    });
    cache = app.get<TieredCache>(TICKCACHE);
    quotes = app.get(QuoteService);
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(async () => {
    await cache.clear();
    vendor.calls = [];
    vendor.hold = undefined;
    vendor.fail = false;
  });

  it('caches under the templated key with the ttl, grace and tags given', async () => {
    expect(await quotes.latest('AAPL')).toEqual({ symbol: 'AAPL', price: 190 });
    expect(await quotes.latest('AAPL')).toEqual({ symbol: 'AAPL', price: 190 });
    expect(vendor.calls).toEqual(['latest AAPL']);
    const entry = cache.l1.peek('price:latest:AAPL')!;
    expect(entry.ttl).toBe(60_000);
    expect(entry.staleTtl).toBe(90_000);
    clock.advance(61_000);
    expect(await quotes.latest('AAPL')).toEqual({ symbol: 'AAPL', price: 190 }); // stale, reloading
    await cache.idle();
    expect(vendor.calls).toEqual(['latest AAPL', 'latest AAPL']);
    expect(await quotes.split('AAPL')).toBe('split AAPL');
    expect(cache.l1.peek('price:latest:AAPL')).toBeUndefined();
  });

  it('concurrent calls for one key make one call of the method', async () => {
    const release = gate();
    vendor.hold = release.promise;
    const calls = Array.from({ length: 20 }, () => quotes.latest('MSFT'));
    release.open();
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(vendor.calls).toEqual(['latest MSFT']);
  });

  it('keys from paths into arguments, from functions, and by default from the arguments (stable)', async () => {
    await quotes.history({ symbol: 'AAPL', days: 3 });
    expect(cache.l1.peek('history:AAPL:3d')?.value.value).toEqual([0, 1, 2]);
    await quotes.feed('u1', 20);
    expect(cache.l1.peek('feed:u1:20')?.value.value).toBe('u1@20');
    expect(await quotes.screen({ sector: 'tech', cap: 'large' })).toBe(2);
    expect(await quotes.screen({ cap: 'large', sector: 'tech' })).toBe(2);
    expect(vendor.calls.filter((c) => c === 'screen')).toHaveLength(1);
    expect(cache.l1.peek('QuoteService.screen:[{"cap":"large","sector":"tech"}]')).toBeDefined();
  });

  it('@CacheEvict by key: after the method succeeded; a failed method leaves the cache alone', async () => {
    await quotes.latest('AAPL');
    vendor.fail = true;
    await expect(quotes.updatePrice('AAPL', 200)).rejects.toThrow('write failed');
    expect(cache.l1.peek('price:latest:AAPL')).toBeDefined();
    vendor.fail = false;
    await quotes.updatePrice('AAPL', 200);
    expect(cache.l1.peek('price:latest:AAPL')).toBeUndefined();
    expect(await quotes.latest('AAPL')).toEqual({ symbol: 'AAPL', price: 200 });
    vendor.prices['AAPL'] = 190;
  });

  it('beforeInvocation evicts even when the method then fails', async () => {
    await quotes.latest('AAPL');
    vendor.fail = true;
    await expect(quotes.updateEvictFirst('AAPL')).rejects.toThrow('write failed');
    expect(cache.l1.peek('price:latest:AAPL')).toBeUndefined();
  });

  it('patterns escape the argument: "A*" removes its own key, not every key starting with A', async () => {
    await quotes.latest('A*');
    await quotes.latest('AB');
    await quotes.latest('AAPL');
    await quotes.dropPattern('A*');
    expect(cache.l1.peek('price:latest:A*')).toBeUndefined();
    expect(cache.l1.peek('price:latest:AB')).toBeDefined();
    expect(cache.l1.peek('price:latest:AAPL')).toBeDefined();
  });

  it('prefixes, events (data from the first argument or a function) and all', async () => {
    await quotes.feed('u1', 1);
    await quotes.feed('u1', 2);
    await quotes.feed('u2', 1);
    await quotes.dropFeed('u1');
    expect([cache.l1.peek('feed:u1:1'), cache.l1.peek('feed:u1:2')]).toEqual([undefined, undefined]);
    expect(cache.l1.peek('feed:u2:1')).toBeDefined();

    await quotes.feed('u2', 2);
    await cache.set('portfolio:u2', { cash: 1 });
    await cache.set('portfolio:u3', { cash: 2 });
    expect(await quotes.trade({ userId: 'u2', symbol: 'AAPL' })).toBe('traded AAPL');
    expect([cache.l1.peek('feed:u2:1'), cache.l1.peek('feed:u2:2'), cache.l1.peek('portfolio:u2')]).toEqual([undefined, undefined, undefined]);
    expect(cache.l1.peek('portfolio:u3')).toBeDefined();

    await quotes.latest('MSFT');
    await quotes.priceEvent('MSFT');
    expect(cache.l1.peek('price:latest:MSFT')).toBeUndefined();

    await quotes.latest('AAPL');
    await quotes.reset();
    expect(cache.l1.size).toBe(0);
  });

  it('a value with no stable key text is refused before the method runs', async () => {
    await expect(quotes.screen({ callback: () => 1 })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(vendor.calls).toEqual([]);
    expect(cache.l1.size).toBe(0);
  });

  it('bad templates are refused when the class is defined', () => {
    const define = (template: string) => () => {
      class Broken {
        @Cacheable({ key: template })
        async method(): Promise<number> {
          return 1;
        }
      }
      return Broken;
    };
    expect(define('price:{symbol}')).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining('{symbol}') }));
    expect(define('price:{}')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(define('price:{0')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(define('')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('an instance Nest did not create says what is missing', async () => {
    await expect(new QuoteService().latest('AAPL')).rejects.toMatchObject({
      code: 'invalid_option',
      message: expect.stringContaining('QuoteService.latest'),
    });
  });

  it('route metadata survives in either decorator order, and the routes are cached', async () => {
    const server = app.getHttpServer();
    for (const path of ['/q/a/AAPL', '/q/a/AAPL', '/q/b/MSFT', '/q/b/MSFT']) await request(server).get(path).expect(200);
    expect(vendor.calls).toEqual(['a AAPL', 'b MSFT']);
    expect(cache.l1.peek('route-a:AAPL')).toBeDefined();
    expect(cache.l1.peek('route-b:MSFT')).toBeDefined();
  });
});
