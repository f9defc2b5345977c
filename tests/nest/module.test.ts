// tests/nest/module.test.ts: TickCacheModule (issue 5, lines 1 and 4): forRoot and forRootAsync
// provide one TieredCache, injectable by token, by class and with @InjectTickCache(); isGlobal
// decides whether other modules see it without importing; warming runs before app.init()
// resolves (and in the background when asked), the refresher runs with the app, and
// app.close() closes the cache -- with Redis, every connection it opened (counted on the
// server), so Jest --detectOpenHandles has nothing to report.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';

import { TieredCache, createTieredCache } from '../../js/src/index.js';
import { InjectTickCache, TICKCACHE, TickCacheLifecycle, TickCacheModule } from '../../js/src/nest/index.js';
import type { TickCacheOptions } from '../../js/src/nest/index.js';
import { startRedis } from '../service/support/redis.js';
import type { RedisServer } from '../service/support/redis.js';
import { bootApp, redisClients, waitFor } from './support/nest.js';

const LONG = 30_000;

@Injectable()
class PriceService {
  loads = 0;
  constructor(@InjectTickCache() readonly cache: TieredCache) {}
  price(symbol: string): Promise<number> {
    return this.cache.getOrSet(`price:${symbol}`, () => {
      this.loads++;
      return symbol.length * 10;
    });
  }
}

@Injectable()
class ByClass {
  constructor(@Inject(TieredCache) readonly cache: TieredCache) {}
}

describe('TickCacheModule.forRoot', () => {
  it('provides one TieredCache by token, by class and by @InjectTickCache()', async () => {
    const app = await bootApp({ imports: [TickCacheModule.forRoot({ l1: { maxEntries: 100 } })], providers: [PriceService, ByClass] });
    try {
      const byToken = app.get<TieredCache>(TICKCACHE);
      expect(byToken).toBeInstanceOf(TieredCache);
      expect(app.get(ByClass).cache).toBe(byToken);
      const service = app.get(PriceService);
      expect(service.cache).toBe(byToken);
      expect(await service.price('AAPL')).toBe(40);
      expect(await service.price('AAPL')).toBe(40);
      expect(service.loads).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('isGlobal: a module that does not import it sees the cache only when global', async () => {
    @Module({ providers: [PriceService], exports: [PriceService] })
    class FeatureModule {}

    const global = await bootApp({ imports: [TickCacheModule.forRoot({ l1: { maxEntries: 10 }, isGlobal: true }), FeatureModule] });
    try {
      expect(global.get(FeatureModule)).toBeDefined();
      expect(await global.get(PriceService).price('MSFT')).toBe(40);
    } finally {
      await global.close();
    }
    await expect(
      Test.createTestingModule({ imports: [TickCacheModule.forRoot({ l1: { maxEntries: 10 } }), FeatureModule] }).compile(),
    ).rejects.toThrow(/PriceService/);
  });

  it('closes the cache it created on app.close(), and leaves a cache it was given open', async () => {
    const app = await bootApp({ imports: [TickCacheModule.forRoot({ l1: { maxEntries: 10 } })] });
    const created = app.get<TieredCache>(TICKCACHE);
    await app.close();
    await expect(created.getOrSet('k', () => 1)).rejects.toMatchObject({ code: 'closed' });

    const mine = await createTieredCache({ l1: { maxEntries: 10 } });
    const given = await bootApp({ imports: [TickCacheModule.forRoot({ cache: mine })] });
    expect(given.get(TICKCACHE)).toBe(mine);
    await given.close();
    expect(await mine.getOrSet('k', () => 2)).toBe(2);
    await mine.close();
  });
});

describe('TickCacheModule.forRootAsync', () => {
  const CONFIG = 'CONFIG';
  @Module({ providers: [{ provide: CONFIG, useValue: { maxEntries: 7, ttl: 60_000 } }], exports: [CONFIG] })
  class ConfigModule {}

  it('builds the cache from a factory with injected dependencies', async () => {
    let factoryCalls = 0;
    const app = await bootApp({
      imports: [
        TickCacheModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { maxEntries: number; ttl: number }): TickCacheOptions => {
            factoryCalls++;
            return { l1: { maxEntries: config.maxEntries }, defaults: { ttl: config.ttl } };
          },
        }),
      ],
      providers: [PriceService],
    });
    try {
      const cache = app.get<TieredCache>(TICKCACHE);
      expect(factoryCalls).toBe(1);
      expect(cache.l1.stats().maxEntries).toBe(7);
      await app.get(PriceService).price('IBM');
      // defaults.ttl from the factory reached the cache: 60 s of fresh time, not "never".
      expect(cache.l1.peek('price:IBM')!.ttl).toBeLessThanOrEqual(60_000);
      expect(cache.l1.peek('price:IBM')!.ttl).toBeGreaterThan(59_000);
    } finally {
      await app.close();
    }
  });

  it('can be global too', async () => {
    @Module({ providers: [PriceService] })
    class FeatureModule {}
    const app = await bootApp({
      imports: [TickCacheModule.forRootAsync({ isGlobal: true, useFactory: () => ({ l1: { maxEntries: 5 } }) }), FeatureModule],
    });
    try {
      expect(await app.get(PriceService).price('X')).toBe(10);
    } finally {
      await app.close();
    }
  });
});

describe('lifecycle: warming and the refresher', () => {
  it('warms before app.init() resolves; keys already cached are not loaded again', async () => {
    const loaded: string[] = [];
    const cache = await createTieredCache({ l1: { maxEntries: 100 } });
    await cache.set('price:AAPL', 1); // already there: must count as cached, not loaded
    const app = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          cache,
          warm: [
            {
              keys: ['price:AAPL', 'price:MSFT', 'price:GOOG'],
              loader: (key) => {
                loaded.push(key);
                return key.length;
              },
              concurrency: 2,
            },
            { keys: async () => ['symbols:list'], loader: () => ['AAPL', 'MSFT'] },
          ],
        }),
      ],
    });
    try {
      expect(loaded.sort()).toEqual(['price:GOOG', 'price:MSFT']);
      expect(cache.l1.get('symbols:list')?.value).toEqual(['AAPL', 'MSFT']);
      expect(app.get(TickCacheLifecycle).warmResult).toMatchObject({ loaded: 3, cached: 1, failed: 0 });
    } finally {
      await app.close();
      await cache.close();
    }
  });

  it('a warm callback gets the cache and the ModuleRef; failures do not stop start-up', async () => {
    const VENDOR = 'VENDOR';
    let seen: unknown;
    const app = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          l1: { maxEntries: 10 },
          warm: async (cache, moduleRef) => {
            seen = moduleRef.get(VENDOR, { strict: false });
            await cache.set('from-callback', 'ok');
          },
        }),
      ],
      providers: [{ provide: VENDOR, useValue: { name: 'vendor' } }],
    });
    try {
      expect(seen).toEqual({ name: 'vendor' });
      expect(app.get<TieredCache>(TICKCACHE).l1.get('from-callback')?.value).toBe('ok');
    } finally {
      await app.close();
    }

    const failing = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          l1: { maxEntries: 10 },
          warm: [
            { keys: () => Promise.reject(new Error('watchlists unavailable')), loader: () => 1 },
            { keys: ['a', 'b'], loader: (key) => (key === 'a' ? Promise.reject(new Error('vendor down')) : 2) },
          ],
        }),
      ],
    });
    try {
      expect(failing.get(TickCacheLifecycle).warmResult).toMatchObject({ loaded: 1, failed: 2 });
    } finally {
      await failing.close();
    }
  });

  it('warmInBackground: init resolves first, the warm-up finishes, close() waits for it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          l1: { maxEntries: 10 },
          warmInBackground: true,
          warm: [{ keys: ['slow'], loader: async () => (await held, 'done') }],
        }),
      ],
    });
    const lifecycle = app.get(TickCacheLifecycle);
    expect(lifecycle.warmResult).toBeUndefined(); // init did not wait for the held loader
    release();
    await lifecycle.warming;
    expect(lifecycle.warmResult).toMatchObject({ loaded: 1 });
    await app.close();
  });

  it('starts the refresher when the app boots and stops it when it closes; warmed keys are refreshable', async () => {
    let version = 0;
    const cache = await createTieredCache({ l1: { maxEntries: 10 } });
    const app = await bootApp({
      imports: [
        TickCacheModule.forRoot({
          cache,
          // One run per hour: the test runs it by hand; a 1-minute TTL is "near expiry" for it.
          refresher: { intervalMs: 3_600_000, jitter: 0 },
          warm: [{ keys: ['price:AAPL'], loader: () => ++version, ttl: 60_000 }],
        }),
      ],
    });
    expect(cache.refresher).toBeDefined();
    const report = await cache.refresher!.runOnce();
    expect(report).toMatchObject({ checked: 1, refreshed: 1, changed: 1 });
    expect(cache.l1.get('price:AAPL')?.value).toBe(2);
    await app.close();
    expect(cache.refresher).toBeUndefined(); // stopped with the app (the cache itself was ours)
    await cache.close();
  });
});

describe('with Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis('nest-module');
  }, LONG);
  afterAll(async () => {
    await redis?.teardown();
  }, LONG);

  it('two apps share L2; app.close() closes every Redis connection the module opened', async () => {
    const before = await redisClients(redis.port);
    const options = { l1: { maxEntries: 100 }, redis: { url: `redis://127.0.0.1:${redis.port}`, namespace: 'mod:' } };
    const first = await bootApp({ imports: [TickCacheModule.forRoot(options)], providers: [PriceService] });
    const second = await bootApp({ imports: [TickCacheModule.forRoot(options)], providers: [PriceService] });
    try {
      expect(await redisClients(redis.port)).toBeGreaterThan(before);
      expect(await first.get(PriceService).price('NVDA')).toBe(40);
      expect(await second.get(PriceService).price('NVDA')).toBe(40);
      expect(first.get(PriceService).loads + second.get(PriceService).loads).toBe(1);
      expect(second.get<TieredCache>(TICKCACHE).stats().l2.hits).toBe(1);
      // An invalidation in one reaches the other's L1 (the bus).
      await first.get<TieredCache>(TICKCACHE).delete('price:NVDA');
      await waitFor(() => second.get<TieredCache>(TICKCACHE).l1.peek('price:NVDA') === undefined, 'the delete to reach the other L1');
    } finally {
      await first.close();
      await second.close();
    }
    await waitFor(async () => (await redisClients(redis.port)) === before, 'the module connections to close');
  }, LONG);
});

describe('package boundaries', () => {
  it('only js/src/nest imports Nest, and nothing statically imports the optional peers', () => {
    const root = fileURLToPath(new URL('../../js/src/', import.meta.url));
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
    const imports = (file: string): string[] =>
      [...readFileSync(path.join(root, file), 'utf8').matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
    const nestFiles = files.filter((file) => file.startsWith(`nest${path.sep}`));
    expect(nestFiles.length).toBeGreaterThan(5);
    for (const file of files.filter((f) => !nestFiles.includes(f))) {
      expect([file, imports(file).filter((spec) => spec.startsWith('@nestjs/') || spec.includes('/nest/'))]).toEqual([file, []]);
    }
    for (const file of nestFiles) {
      const optional = imports(file).filter((spec) => /^(prom-client|@nestjs\/terminus|@nestjs\/cache-manager|cache-manager|keyv|@keyv\/)/.test(spec));
      expect([file, optional]).toEqual([file, []]);
    }
  });
});
