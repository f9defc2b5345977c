// test/admin.test.ts: the admin endpoints of the stock service (tickcache's admin controller
// plus the service's own: vendor knobs, POST /cache/clear/{symbol}): refused without a
// configured token (403), without a bearer token (401) and with a wrong one (403), and nothing
// changes when refused; granted with the token: stats, report, health, metrics, invalidation by
// event (the event map), by symbol and of everything, a manual refresh that reloads a changed
// price, and the global switch.

import { symbolInfo, quoteAt } from '../src/vendor/market-data.js';
import { ADMIN_TOKEN, MARKET_OPEN, manualClock, startApp } from './support/app.js';
import type { RunningApp } from './support/app.js';

const LONG = 20_000;
const AUTH = { Authorization: `Bearer ${ADMIN_TOKEN}` };
let running: RunningApp | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

const ADMIN_CALLS: Array<[method: 'get' | 'post' | 'delete', path: string, body?: object]> = [
  ['get', '/cache/stats'],
  ['get', '/cache/report'],
  ['get', '/cache/health'],
  ['get', '/cache/metrics'],
  ['post', '/cache/invalidate?event=symbol.corporate-action&data={"symbol":"AAPL"}'],
  ['post', '/cache/refresh'],
  ['post', '/cache/enabled', { enabled: false }],
  ['post', '/cache/clear/AAPL'],
  ['delete', '/cache/clear'],
  ['post', '/vendor/settings', { failureRate: 1 }],
  ['post', '/vendor/stats/reset'],
];

test('admin refused: no token configured (403 for everybody), no bearer token (401), a wrong token (403); nothing changes', async () => {
  running = await startApp({ adminToken: undefined });
  const { http } = running;
  await http.get('/stocks/AAPL/price').expect(200);
  for (const [method, path, body] of ADMIN_CALLS) {
    const response = await http[method](path).set(AUTH).send(body);
    expect([method, path, response.status]).toEqual([method, path, 403]);
  }
  await running.close();

  running = await startApp();
  const { http: guarded, vendor } = running;
  await guarded.get('/stocks/AAPL/price').expect(200);
  const callsBefore = running.calls();
  for (const [method, path, body] of ADMIN_CALLS) {
    const anonymous = await guarded[method](path).send(body);
    expect([method, path, anonymous.status]).toEqual([method, path, 401]);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await guarded[method](path).set({ Authorization: 'Bearer not-the-token' }).send(body);
    expect([method, path, wrong.status]).toEqual([method, path, 403]);
    const otherScheme = await guarded[method](path).set({ Authorization: `Basic ${ADMIN_TOKEN}` }).send(body);
    expect([method, path, otherScheme.status]).toEqual([method, path, 401]);
  }
  // Still cached, still on, the vendor untouched: no refused call did anything.
  const after = await guarded.get('/stocks/AAPL/price').expect(200);
  expect(after.headers['x-cache']).toBe('HIT');
  expect(running.calls()).toBe(callsBefore);
  expect(vendor.getSettings().failureRate).toBe(0);
}, LONG);

test('admin granted: stats, report, health and metrics describe what happened', async () => {
  running = await startApp();
  const { http } = running;
  // Cold: one miss and nothing else is below the 80 % hit-rate goal.
  await http.get('/stocks/AAPL/price').expect(200);
  const cold = await http.get('/cache/health').set(AUTH).expect(503);
  expect(cold.body.status).toBe('degraded');
  expect(cold.body.reasons.join(' ')).toMatch(/hit rate/);

  for (let i = 0; i < 9; i++) await http.get('/stocks/AAPL/price').expect(200);
  const stats = (await http.get('/cache/stats').set(AUTH).expect(200)).body;
  expect(stats.l1.hits).toBe(9 + 0); // the symbol list was warmed, never read
  expect(stats.loader.calls).toBe(running.calls());
  expect(stats.l1Memory.entries).toBe(2); // symbols:list and price:latest:AAPL

  const healthy = await http.get('/cache/health').set(AUTH).expect(200);
  // 11 lookups: the warmed symbol list (a miss), AAPL's first request (a miss), 9 hits.
  expect(healthy.body).toMatchObject({ status: 'ok', hitRate: 9 / 11, requests: 11 });

  const report = (await http.get('/cache/report').set(AUTH).expect(200)).body;
  expect(report.topKeys[0]).toMatchObject({ key: 'price:latest:AAPL', hits: 9, misses: 1 });
  expect(report.refresher.running).toBe(true);

  const metrics = await http.get('/cache/metrics').set(AUTH).expect(200);
  expect(metrics.text).toContain('tickcache_requests_total{tier="l1",result="hit"} 9');
  // The app's public prom-client endpoint carries the same counters.
  const scraped = await http.get('/metrics').expect(200);
  expect(scraped.text).toMatch(/tickcache_requests_total\{[^}]*tier="l1"[^}]*result="hit"[^}]*\} 9/);
  // /health (terminus) stays up with a degraded cache: the service still answers.
  const service = await http.get('/health').expect(200);
  expect(service.body.status).toBe('ok');
}, LONG);

test('invalidation: an event of the map, one symbol, everything; each drops exactly what it names', async () => {
  running = await startApp();
  const { http } = running;
  const paths = (symbol: string): string[] => [`/stocks/${symbol}/price`, `/stocks/${symbol}/history`, `/stocks/${symbol}/fundamentals`];
  const load = async (): Promise<void> => {
    for (const path of [...paths('AAPL'), ...paths('MSFT')]) await http.get(path).expect(200);
  };
  const cacheOf = async (symbol: string): Promise<string[]> =>
    Promise.all(paths(symbol).map(async (path) => (await http.get(path)).headers['x-cache'] as string));

  await load();
  // symbol.corporate-action -> patterns ["*:{symbol}"] (config.ts): every key of AAPL, none of MSFT.
  const event = await http
    .post('/cache/invalidate')
    .query({ event: 'symbol.corporate-action', data: JSON.stringify({ symbol: 'AAPL' }) })
    .set(AUTH)
    .expect(200);
  expect(event.body.removed).toBe(3);
  expect(await cacheOf('MSFT')).toEqual(['HIT', 'HIT', 'HIT']);
  expect(await cacheOf('AAPL')).toEqual(['MISS', 'MISS', 'MISS']);

  // An event the map does not name, or data it needs but lacks: 400, nothing removed.
  const unknown = await http.post('/cache/invalidate').query({ event: 'no.such.event' }).set(AUTH).expect(400);
  expect(unknown.body.message).toContain('no.such.event');
  const missing = await http.post('/cache/invalidate').query({ event: 'price.updated', data: '{}' }).set(AUTH).expect(400);
  expect(missing.body.message).toContain('symbol');
  // signal.created (USER-NEEDS.md's map) is accepted; this service holds none of its keys.
  const signal = await http.post('/cache/invalidate').send({ event: 'signal.created', data: { providerId: 7 } }).set(AUTH).expect(200);
  expect(signal.body.removed).toBe(0);
  expect(await cacheOf('AAPL')).toEqual(['HIT', 'HIT', 'HIT']);

  const bySymbol = await http.post('/cache/clear/msft').set(AUTH).expect(200);
  expect(bySymbol.body).toEqual({ symbol: 'MSFT', pattern: '*:MSFT', removed: 3 });
  expect(await cacheOf('MSFT')).toEqual(['MISS', 'MISS', 'MISS']);
  expect(await cacheOf('AAPL')).toEqual(['HIT', 'HIT', 'HIT']);
  await http.post('/cache/clear/a*').set(AUTH).expect(400); // not a symbol: no glob smuggled in

  const all = await http.delete('/cache/clear').set(AUTH).expect(200);
  expect(all.body.removed).toBe(7); // 6 keys and the symbol list
  expect(await cacheOf('AAPL')).toEqual(['MISS', 'MISS', 'MISS']);
}, LONG);

test('POST /cache/refresh reloads hot keys near expiry: the moved price is served as a HIT without another vendor call', async () => {
  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ clock: clock.now });
  const { http } = running;
  const first = await http.get('/stocks/NVDA/price').expect(200);
  clock.advance(4 * 60_000); // 1 min of its 5 left: within the next run's reach; 4 vendor ticks on
  const calls = running.calls();
  const run = await http.post('/cache/refresh').set(AUTH).expect(200);
  // Hot since the last run: the warmed symbol list (6 h left: not due) and NVDA's price (due).
  expect(run.body).toMatchObject({ checked: 2, refreshed: 1, changed: 1, failed: 0 });
  expect(running.calls()).toBe(calls + 1);

  const after = await http.get('/stocks/NVDA/price').expect(200);
  expect(after.headers['x-cache']).toBe('HIT');
  expect(after.headers['etag']).not.toBe(first.headers['etag']);
  expect(after.headers['cache-control']).toMatch(/^public, max-age=300,/); // a fresh 5 min from the reload
  expect(after.body).toEqual(quoteAt(symbolInfo('NVDA')!, clock.now(), 60_000));
  expect(running.calls()).toBe(calls + 1);
}, LONG);

test('POST /cache/enabled false: every request goes to the vendor (MISS); true: cached again', async () => {
  running = await startApp();
  const { http } = running;
  await http.get('/stocks/AAPL/price').expect(200);
  await http.post('/cache/enabled').send({ enabled: false }).set(AUTH).expect(200, { enabled: false });
  const calls = running.calls();
  for (let i = 0; i < 3; i++) expect((await http.get('/stocks/AAPL/price').expect(200)).headers['x-cache']).toBe('MISS');
  expect(running.calls()).toBe(calls + 3);
  await http.post('/cache/enabled').send({ enabled: 'no' }).set(AUTH).expect(400);
  await http.post('/cache/enabled').send({ enabled: true }).set(AUTH).expect(200, { enabled: true });
  expect((await http.get('/stocks/AAPL/price').expect(200)).headers['x-cache']).toBe('HIT');
}, LONG);

test('vendor knobs (admin): settings change at run time and bad ones are refused by name', async () => {
  running = await startApp();
  const { http, vendor } = running;
  const changed = await http.post('/vendor/settings').send({ failureRate: 1, latencyMs: { min: 1, max: 2 } }).set(AUTH).expect(200);
  expect(changed.body).toMatchObject({ failureRate: 1, latencyMs: { min: 1, max: 2 } });
  expect((await http.get('/stocks/AAPL/fundamentals')).status).toBe(502);
  const unknown = await http.post('/vendor/settings').send({ speed: 3 }).set(AUTH).expect(400);
  expect(unknown.body.message).toContain('speed');
  const bad = await http.post('/vendor/settings').send({ failureRate: 2 }).set(AUTH).expect(400);
  expect(bad.body.message).toContain('failureRate');
  expect(vendor.getSettings().failureRate).toBe(1);
  await http.post('/vendor/stats/reset').set(AUTH).expect(204);
  expect(running.calls()).toBe(0);
}, LONG);
