// tests/nest/health-metrics.test.ts: TickCacheHealthIndicator in a real @nestjs/terminus health
// check (issue 5, line 3): up (200) while the hit rate is at its threshold, down (503, terminus's
// "error") below it, up again when the check is told to ignore the hit rate; and prom-client
// metrics: after traffic, the registry's text carries exactly the cache's own counts; app.close()
// removes them (a second app registers again without "already registered"); without prom-client
// the app boots with no metrics and says why.

import { Controller, Get, Inject } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import request from 'supertest';

import type { TieredCache } from '../../js/src/index.js';
import { TICKCACHE, TICKCACHE_METRICS, TickCacheHealthIndicator, TickCacheModule } from '../../js/src/nest/index.js';
import type { TickCacheMetrics, TickCacheModuleOptions } from '../../js/src/nest/index.js';
import { bootApp } from './support/nest.js';

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(TickCacheHealthIndicator) private readonly cacheHealth: TickCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<unknown> {
    return this.health.check([() => this.cacheHealth.isHealthy('cache', { minHitRate: 0.5 })]);
  }

  @Get('lenient')
  @HealthCheck()
  lenient(): Promise<unknown> {
    return this.health.check([() => this.cacheHealth.isHealthy('cache', { minHitRate: 0.5, ignore: ['hitRate'] })]);
  }
}

async function app(options: Partial<TickCacheModuleOptions> = {}): Promise<INestApplication> {
  return bootApp({
    imports: [TerminusModule.forRoot({ logger: false }), TickCacheModule.forRoot({ l1: { maxEntries: 100 }, ...options })],
    controllers: [HealthController],
  });
}

async function reads(cache: TieredCache, keys: string[]): Promise<void> {
  for (const key of keys) await cache.getOrSet(key, () => key.length);
}

describe('TickCacheHealthIndicator with @nestjs/terminus', () => {
  it('up at the threshold, down below it, up again when the hit rate is ignored', async () => {
    const nest = await app();
    try {
      const cache = nest.get<TieredCache>(TICKCACHE);
      const server = nest.getHttpServer();
      const fresh = await request(server).get('/health').expect(200);
      expect(fresh.body).toMatchObject({ status: 'ok', info: { cache: { status: 'up', requests: 0 } } });

      await reads(cache, ['a', 'a']); // 1 miss, 1 hit: 50 %
      const up = await request(server).get('/health').expect(200);
      expect(up.body.info.cache).toMatchObject({ status: 'up', hitRate: 0.5, minHitRate: 0.5, failing: [] });

      await reads(cache, ['b']); // 1 hit of 3: 33 %
      const down = await request(server).get('/health').expect(503);
      expect(down.body).toMatchObject({ status: 'error', error: { cache: { status: 'down', failing: ['hitRate'] } } });
      expect(down.body.error.cache.reasons.join()).toMatch(/hit rate 33\.3 % is below 50\.0 %/);

      const lenient = await request(server).get('/health/lenient').expect(200);
      expect(lenient.body.info.cache).toMatchObject({ status: 'up', failing: ['hitRate'] });

      cache.setEnabled(false);
      const off = await request(server).get('/health/lenient').expect(503);
      expect(off.body.error.cache.failing).toEqual(['hitRate', 'enabled']);
    } finally {
      await nest.close();
    }
  });
});

describe('prom-client metrics', () => {
  function sample(text: string, line: string): number {
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    if (found === undefined) throw new Error(`no sample ${line} in:\n${text}`);
    return Number(found.slice(line.length + 1));
  }

  it("exports the cache's counts; app.close() unregisters them", async () => {
    const registry = new Registry();
    const nest = await app({ metrics: { registry, labels: { cache: 'prices' } } });
    const cache = nest.get<TieredCache>(TICKCACHE);
    await reads(cache, ['AAPL', 'AAPL', 'AAPL', 'MSFT']);
    const text = await registry.metrics();
    const stats = cache.stats();
    expect(stats.l1.hits).toBe(2);
    expect(sample(text, 'tickcache_requests_total{tier="l1",result="hit",cache="prices"}')).toBe(2);
    expect(sample(text, 'tickcache_requests_total{tier="l1",result="miss",cache="prices"}')).toBe(2);
    expect(sample(text, 'tickcache_loader_calls_total{cache="prices"}')).toBe(2);
    expect(sample(text, 'tickcache_hit_ratio{cache="prices"}')).toBeCloseTo(0.5, 10);
    expect(sample(text, 'tickcache_l1_entries{cache="prices"}')).toBe(2);
    expect(sample(text, 'tickcache_l1_bytes{kind="used",cache="prices"}')).toBe(cache.l1.bytes);
    expect(sample(text, 'tickcache_enabled{cache="prices"}')).toBe(1);
    expect(text).toMatch(/# TYPE tickcache_requests_total counter/);
    expect(text).toMatch(/# TYPE tickcache_hit_ratio gauge/);
    // Read at scrape time: more traffic, higher counts.
    await reads(cache, ['AAPL']);
    expect(sample(await registry.metrics(), 'tickcache_requests_total{tier="l1",result="hit",cache="prices"}')).toBe(3);

    await nest.close();
    expect(registry.getSingleMetric('tickcache_requests_total')).toBeUndefined();
    expect((await registry.metrics()).trim()).toBe('');

    const again = await app({ metrics: { registry } });
    try {
      await reads(again.get<TieredCache>(TICKCACHE), ['x']);
      expect(sample(await registry.metrics(), 'tickcache_loader_calls_total')).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('metrics: true uses the global registry, with a prefix', async () => {
    const promClient = await import('prom-client');
    const nest = await app({ metrics: { prefix: 'svc_cache_' } });
    try {
      await reads(nest.get<TieredCache>(TICKCACHE), ['a']);
      expect(sample(await promClient.register.metrics(), 'svc_cache_loader_calls_total')).toBe(1);
    } finally {
      await nest.close();
    }
    expect(promClient.register.getSingleMetric('svc_cache_loader_calls_total')).toBeUndefined();
  });

  it('without prom-client: the app boots, no metrics, the reason kept', async () => {
    const missing = Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const nest = await app({ metrics: { load: () => Promise.reject(missing) } });
    try {
      const metrics = nest.get<TickCacheMetrics>(TICKCACHE_METRICS);
      expect(metrics.unavailableReason).toBe('prom-client is not installed');
      expect(await nest.get<TieredCache>(TICKCACHE).getOrSet('k', () => 1)).toBe(1);
    } finally {
      await nest.close();
    }
  });
});
