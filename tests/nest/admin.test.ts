// tests/nest/admin.test.ts: the admin endpoints (issue 5, line 3). No credentials, no access:
// without a token or guard every endpoint answers 403; with a token, no header is 401 (with
// WWW-Authenticate), a wrong token 403, the right one 200; a custom guard (with DI) replaces the
// token check. Then each endpoint on real traffic: stats and report (hit rates per tier, L1
// memory, top keys from the interceptor, alerts; JSON and text), health (200, then 503 below
// the hit-rate threshold), invalidate by event (body and ?event=&data=), tag, key, pattern and
// prefix, 400s that name the bad value and leave the cache as it was, clear, refresh (with and
// without a refresher), the caching switch and Prometheus text. Also TickCacheAdminModule next
// to a global TickCacheModule, forRootAsync with the token from a factory, and a global
// TickCacheInterceptor that leaves the admin routes uncached.

import { Controller, Get, Global, Inject, Injectable, Module, Param, UseInterceptors } from '@nestjs/common';
import type { CanActivate, ExecutionContext, INestApplication } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import request from 'supertest';

import type { TieredCache } from '../../js/src/index.js';
import { CacheRoute, TICKCACHE, TickCacheAdminModule, TickCacheInterceptor, TickCacheModule } from '../../js/src/nest/index.js';
import type { TickCacheModuleOptions } from '../../js/src/nest/index.js';
import { bootApp } from './support/nest.js';

const TOKEN = 'let-me-in-0123456789';
const ENDPOINTS: Array<['get' | 'post' | 'delete', string]> = [
  ['get', '/cache/stats'],
  ['get', '/cache/report'],
  ['get', '/cache/health'],
  ['get', '/cache/metrics'],
  ['post', '/cache/invalidate'],
  ['delete', '/cache/clear'],
  ['post', '/cache/refresh'],
  ['post', '/cache/enabled'],
];

let loads = 0;

@Controller('prices')
@UseInterceptors(TickCacheInterceptor)
class PriceController {
  @Get(':symbol')
  @CacheRoute({ key: 'price:latest:{symbol}', ttl: 60_000, tags: ['symbol:{symbol}'] })
  latest(@Param('symbol') symbol: string): unknown {
    loads++;
    return { symbol, price: symbol.length };
  }
}

const EVENTS: TickCacheModuleOptions['events'] = {
  'price.updated': { keys: ['price:latest:{symbol}'] },
  'market.close': { prefixes: ['price:'] },
};

async function adminApp(options: Partial<TickCacheModuleOptions> = {}): Promise<INestApplication> {
  return bootApp({
    imports: [TickCacheModule.forRoot({ l1: { maxEntries: 1000 }, events: EVENTS, admin: { token: TOKEN }, ...options })],
    controllers: [PriceController],
  });
}

const auth = { Authorization: `Bearer ${TOKEN}` };

describe('admin access', () => {
  it('no token and no guard configured: every endpoint is refused (403), nothing is changed', async () => {
    const app = await adminApp({ admin: {} });
    try {
      const cache = app.get<TieredCache>(TICKCACHE);
      await cache.set('keep', 1);
      for (const [method, path] of ENDPOINTS) {
        const response = await request(app.getHttpServer())[method](path).set(auth).send({ key: 'keep', enabled: false });
        expect([path, response.status]).toEqual([path, 403]);
      }
      expect(cache.l1.get('keep')?.value).toBe(1);
      expect(cache.enabled).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('with a token: none is 401 with WWW-Authenticate, a wrong one 403, the right one passes', async () => {
    const app = await adminApp();
    try {
      const server = app.getHttpServer();
      for (const [method, path] of ENDPOINTS) {
        const none = await request(server)[method](path);
        expect([path, none.status]).toEqual([path, 401]);
        expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
        const wrong = await request(server)[method](path).set('Authorization', `Bearer ${TOKEN}x`);
        expect([path, wrong.status]).toEqual([path, 403]);
        const basic = await request(server)[method](path).set('Authorization', `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}`);
        expect([path, basic.status]).toEqual([path, 401]);
      }
      await request(server).get('/cache/stats').set(auth).expect(200);
      await request(server).get('/cache/stats').set('Authorization', `bearer ${TOKEN}`).expect(200);
    } finally {
      await app.close();
    }
  });

  it('a custom guard class (resolved with DI) replaces the token check', async () => {
    const ADMIN_ROLE = 'ADMIN_ROLE';
    @Global()
    @Module({ providers: [{ provide: ADMIN_ROLE, useValue: 'ops' }], exports: [ADMIN_ROLE] })
    class RolesModule {}
    @Injectable()
    class RoleGuard implements CanActivate {
      constructor(@Inject(ADMIN_ROLE) private readonly role: string) {}
      canActivate(context: ExecutionContext): boolean {
        return context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-role'] === this.role;
      }
    }
    const app = await bootApp({
      imports: [RolesModule, TickCacheModule.forRoot({ l1: { maxEntries: 10 }, admin: { guard: RoleGuard, token: TOKEN } })],
    });
    try {
      await request(app.getHttpServer()).get('/cache/stats').set(auth).expect(403); // the token no longer opens it
      await request(app.getHttpServer()).get('/cache/stats').set('X-Role', 'ops').expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('admin endpoints', () => {
  let app: INestApplication;
  let cache: TieredCache;
  let server: ReturnType<INestApplication['getHttpServer']>;

  beforeAll(async () => {
    app = await adminApp({ refresher: { intervalMs: 3_600_000, jitter: 0 } });
    cache = app.get<TieredCache>(TICKCACHE);
    server = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(async () => {
    await cache.clear();
    cache.setEnabled(true);
    loads = 0;
  });

  async function traffic(): Promise<void> {
    // AAPL: 1 miss + 3 hits, MSFT: 1 miss + 1 hit.
    for (const symbol of ['AAPL', 'AAPL', 'MSFT', 'AAPL', 'MSFT', 'AAPL']) await request(server).get(`/prices/${symbol}`).expect(200);
  }

  it('GET /cache/stats: per-tier counts and L1 memory', async () => {
    const before = cache.stats();
    await traffic();
    const stats = (await request(server).get('/cache/stats').set(auth).expect(200)).body;
    expect(stats.l1.hits - before.l1.hits).toBe(4);
    expect(stats.l1.misses - before.l1.misses).toBe(2);
    expect(stats.loader.calls - before.loader.calls).toBe(2);
    expect(stats.l1Memory).toMatchObject({ entries: 2, maxEntries: 1000 });
    expect(stats.l1Memory.bytes).toBeGreaterThan(0);
  });

  it('GET /cache/report: JSON with hit rates, top keys, alerts; and as text', async () => {
    await traffic();
    const report = (await request(server).get('/cache/report').set(auth).expect(200)).body;
    expect(report.stats.hitRate).toBeCloseTo(cache.stats().hitRate, 10);
    const top = report.topKeys.filter((entry: { key: string }) => entry.key.startsWith('price:latest:'));
    expect(top.slice(0, 2)).toEqual([
      expect.objectContaining({ key: 'price:latest:AAPL', hits: expect.any(Number), misses: expect.any(Number) }),
      expect.objectContaining({ key: 'price:latest:MSFT' }),
    ]);
    expect(report.health.status).toMatch(/ok|degraded/);
    expect(report.refresher.running).toBe(true);
    expect(Array.isArray(report.alerts)).toBe(true);

    const text = await request(server).get('/cache/report?format=text').set(auth).expect(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^tickcache report, /);
    expect(text.text).toContain('price:latest:AAPL');
    expect(text.text).toMatch(/\nL1 +\d+/);
  });

  it('the report raises a hit-rate alert below its threshold, and not above it', async () => {
    const own = await adminApp({ admin: { token: TOKEN, alerts: { minHitRate: 0.5 } } });
    try {
      const ownServer = own.getHttpServer();
      const alertNames = async (): Promise<string[]> =>
        (await request(ownServer).get('/cache/report').set(auth).expect(200)).body.alerts.map((alert: { name: string }) => alert.name);
      for (const symbol of ['AAPL', 'AAPL', 'MSFT', 'AAPL', 'MSFT', 'AAPL']) await request(ownServer).get(`/prices/${symbol}`).expect(200);
      expect(own.get<TieredCache>(TICKCACHE).stats().hitRate).toBeCloseTo(4 / 6, 10);
      expect(await alertNames()).not.toContain('hit_rate_low');
      for (const symbol of ['A1', 'A2', 'A3', 'A4', 'A5']) await request(ownServer).get(`/prices/${symbol}`).expect(200);
      expect(own.get<TieredCache>(TICKCACHE).stats().hitRate).toBeCloseTo(4 / 11, 10);
      expect(await alertNames()).toContain('hit_rate_low');
    } finally {
      await own.close();
    }
  });

  it('GET /cache/health: 200 at or above the threshold, 503 below it', async () => {
    const own = await adminApp();
    try {
      const ownServer = own.getHttpServer();
      for (const symbol of ['AAPL', 'AAPL', 'MSFT', 'AAPL', 'MSFT', 'AAPL']) await request(ownServer).get(`/prices/${symbol}`).expect(200);
      // Hit rate 4/6 = 0.667.
      const ok = await request(ownServer).get('/cache/health?minHitRate=0.6').set(auth).expect(200);
      expect(ok.body).toMatchObject({ status: 'ok', minHitRate: 0.6, requests: 6 });
      const degraded = await request(ownServer).get('/cache/health?minHitRate=0.7').set(auth).expect(503);
      expect(degraded.body).toMatchObject({ status: 'degraded', minHitRate: 0.7 });
      expect(degraded.body.reasons.join()).toMatch(/hit rate 66\.7 % is below 70\.0 %/);
      await request(ownServer).get('/cache/health').set(auth).expect(503); // the default threshold, 80 %
      await request(ownServer).get('/cache/health?minHitRate=2').set(auth).expect(400);
    } finally {
      await own.close();
    }
  });

  it('POST /cache/invalidate: by event (body and query string), tag, key, pattern and prefix', async () => {
    await traffic();
    const post = (body: object, query = '') => request(server).post(`/cache/invalidate${query}`).set(auth).send(body);

    expect((await post({ event: 'price.updated', data: { symbol: 'AAPL' } }).expect(200)).body).toMatchObject({ removed: 1 });
    expect(cache.l1.peek('price:latest:AAPL')).toBeUndefined();
    expect(cache.l1.peek('price:latest:MSFT')).toBeDefined();

    await traffic();
    const viaQuery = await post({}, `?event=price.updated&data=${encodeURIComponent(JSON.stringify({ symbol: 'MSFT' }))}`).expect(200);
    expect(viaQuery.body.removed).toBe(1);
    expect(cache.l1.peek('price:latest:MSFT')).toBeUndefined();

    await traffic();
    expect((await post({ tag: 'symbol:MSFT' }).expect(200)).body.removed).toBe(1);
    expect((await post({ keys: ['price:latest:AAPL', 'nope'] }).expect(200)).body.removed).toBe(1);
    await traffic();
    expect((await post({ pattern: '*:MSFT' }).expect(200)).body.removed).toBe(1);
    expect((await post({ prefix: 'price:' }).expect(200)).body.removed).toBe(1);
    expect(cache.l1.size).toBe(0);
  });

  it('POST /cache/invalidate: bad requests are 400s naming the problem, and nothing is removed', async () => {
    await traffic();
    const post = (body: object, query = '') => request(server).post(`/cache/invalidate${query}`).set(auth).send(body);
    const cases: Array<[object, string, RegExp]> = [
      [{}, '', /name what to invalidate/],
      [{ event: 'no.such.event' }, '', /no\.such\.event/],
      [{ event: 'price.updated', data: {} }, '', /data\.symbol/],
      [{ event: 'price.updated', key: 'price:latest:AAPL' }, '', /data\.symbol/],
      [{}, '?event=price.updated&data=%7Bnot-json', /JSON object/],
      [{ tags: [1, 2] }, '', /tags must be/],
      [{ pattern: 'price:\\' }, '', /dangling escape/],
    ];
    for (const [body, query, message] of cases) {
      const response = await post(body, query);
      expect([JSON.stringify(body) + query, response.status]).toEqual([JSON.stringify(body) + query, 400]);
      expect(response.body.message).toMatch(message);
      expect(typeof response.body.code).toBe('string');
    }
    expect(cache.l1.size).toBe(2);
  });

  it('DELETE /cache/clear', async () => {
    await traffic();
    expect((await request(server).delete('/cache/clear').set(auth).expect(200)).body).toEqual({ removed: 2 });
    expect(cache.l1.size).toBe(0);
  });

  it('POST /cache/refresh: runs the refresher now, or reloads the keys named', async () => {
    // Forget what earlier tests read: the refresher looks at keys read since its last run.
    await cache.refresher!.runOnce();
    await cache.clear();
    loads = 0;
    await traffic();
    const run = (await request(server).post('/cache/refresh').set(auth).expect(200)).body;
    // 60 s TTLs are near expiry for an hourly refresher: both hot keys are reloaded (same values).
    expect(run).toMatchObject({ checked: 2, refreshed: 2, changed: 0, unchanged: 2, failed: 0 });
    expect(loads).toBe(4);
    await request(server).get('/prices/AAPL');
    const named = (await request(server).post('/cache/refresh').set(auth).send({ keys: ['price:latest:AAPL'] }).expect(200)).body;
    expect(named).toEqual({ refreshed: 1, results: { 'price:latest:AAPL': 'unchanged' } });
    await request(server).post('/cache/refresh').set(auth).send({ keys: ['never-read'] }).expect(404);
  });

  it('POST /cache/refresh without a refresher: 501', async () => {
    const plain = await adminApp();
    try {
      const response = await request(plain.getHttpServer()).post('/cache/refresh').set(auth).expect(501);
      expect(response.body.code).toBe('unsupported');
    } finally {
      await plain.close();
    }
  });

  it('POST /cache/enabled switches caching off and on', async () => {
    await request(server).post('/cache/enabled').set(auth).send({ enabled: false }).expect(200, { enabled: false });
    await request(server).get('/prices/AAPL');
    await request(server).get('/prices/AAPL');
    expect(loads).toBe(2);
    await request(server).post('/cache/enabled').set(auth).send({ enabled: 'no' }).expect(400);
    await request(server).post('/cache/enabled').set(auth).send({ enabled: true }).expect(200, { enabled: true });
    await request(server).get('/prices/AAPL');
    await request(server).get('/prices/AAPL');
    expect(loads).toBe(3);
  });

  it('GET /cache/metrics: Prometheus text of the cache counters', async () => {
    await traffic();
    const response = await request(server).get('/cache/metrics').set(auth).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const stats = cache.stats();
    expect(response.text).toContain(`tickcache_requests_total{tier="l1",result="hit"} ${stats.l1.hits}`);
    expect(response.text).toContain(`tickcache_loader_calls_total ${stats.loader.calls}`);
  });
});

describe('other ways to mount the admin endpoints', () => {
  it('TickCacheAdminModule next to a global TickCacheModule, at a custom path', async () => {
    const app = await bootApp({
      imports: [
        TickCacheModule.forRoot({ l1: { maxEntries: 10 }, isGlobal: true }),
        TickCacheAdminModule.forRoot({ token: TOKEN, path: 'ops/cache' }),
      ],
    });
    try {
      await request(app.getHttpServer()).get('/ops/cache/stats').expect(401);
      await request(app.getHttpServer()).get('/ops/cache/stats').set(auth).expect(200);
      await request(app.getHttpServer()).get('/cache/stats').set(auth).expect(404);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync: the token comes from the factory, the controller from the static admin flag', async () => {
    const SECRETS = 'SECRETS';
    @Module({ providers: [{ provide: SECRETS, useValue: { adminToken: 'from-config' } }], exports: [SECRETS] })
    class SecretsModule {}
    const app = await bootApp({
      imports: [
        TickCacheModule.forRootAsync({
          imports: [SecretsModule],
          inject: [SECRETS],
          admin: true,
          useFactory: (secrets: { adminToken: string }) => ({ l1: { maxEntries: 10 }, admin: { token: secrets.adminToken } }),
        }),
      ],
    });
    try {
      await request(app.getHttpServer()).get('/cache/stats').set(auth).expect(403);
      await request(app.getHttpServer()).get('/cache/stats').set('Authorization', 'Bearer from-config').expect(200);
    } finally {
      await app.close();
    }
  });

  it('a global TickCacheInterceptor caches the app routes but never the admin routes', async () => {
    loads = 0;
    const app = await bootApp({
      imports: [TickCacheModule.forRoot({ l1: { maxEntries: 100 }, admin: { token: TOKEN } })],
      controllers: [PriceController],
      providers: [{ provide: APP_INTERCEPTOR, useClass: TickCacheInterceptor }],
    });
    try {
      const server = app.getHttpServer();
      // Bound twice on /prices (globally and on the controller): only the outer binding caches.
      expect((await request(server).get('/prices/AAPL').expect(200)).headers['x-cache']).toBe('MISS');
      const first = await request(server).get('/cache/stats').set(auth).expect(200);
      expect((await request(server).get('/prices/AAPL').expect(200)).headers['x-cache']).toBe('HIT');
      const second = await request(server).get('/cache/stats').set(auth).expect(200);
      expect(first.headers['x-cache']).toBeUndefined();
      expect(second.body.requests).toBeGreaterThan(first.body.requests);
      expect(loads).toBe(1);
    } finally {
      await app.close();
    }
  });
});
