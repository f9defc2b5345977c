// test/endpoints.test.ts: the stock service's public endpoints end to end (L1 only, no Redis):
// every endpoint answers the vendor's data; the first request is a MISS (one vendor call), the
// next a HIT (none); If-None-Match with the current ETag is answered 304; concurrent misses for
// one key make one vendor call; the price TTL follows market hours; a stale price is served
// (X-Cache STALE) while the vendor fails; bad and unknown symbols, vendor rate limits and
// failures get precise errors; CACHE_MODE=off reaches the vendor on every request; the
// structured request log carries each answer's X-Cache verdict.

import type { RequestLogEntry } from '../src/config.js';
import { fundamentalsOf, historyAt, quoteAt, symbolInfo, UNIVERSE } from '../src/vendor/market-data.js';
import { MARKET_CLOSED, MARKET_OPEN, manualClock, startApp } from './support/app.js';
import type { RunningApp } from './support/app.js';

const LONG = 20_000;
let running: RunningApp | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

test('every endpoint answers the vendor data: MISS with one vendor call, then HIT with none', async () => {
  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ clock: clock.now });
  const { http } = running;
  const aapl = symbolInfo('AAPL')!;
  const expected: Record<string, unknown> = {
    '/stocks/AAPL/price': quoteAt(aapl, clock.now(), 60_000),
    '/stocks/AAPL/history': historyAt(aapl, clock.now(), 30),
    '/stocks/AAPL/fundamentals': fundamentalsOf(aapl),
  };
  for (const [path, body] of Object.entries(expected)) {
    const before = running.calls();
    const first = await http.get(path).expect(200);
    expect(first.body).toEqual(body);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(running.calls()).toBe(before + 1);
    const second = await http.get(path).expect(200);
    expect(second.body).toEqual(body);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.headers['etag']).toBe(first.headers['etag']);
    expect(running.calls()).toBe(before + 1);
  }
  expect((expected['/stocks/AAPL/history'] as { bars: unknown[] }).bars).toHaveLength(30);

  // The symbol list was loaded by start-up warming: a HIT from the first request on.
  const before = running.calls();
  const symbols = await http.get('/symbols').expect(200);
  expect(symbols.headers['x-cache']).toBe('HIT');
  expect(symbols.body.count).toBe(UNIVERSE.length);
  expect(symbols.body.symbols[0]).toEqual({ symbol: 'AAPL', name: 'Apple Inc.', sector: 'Technology' });
  expect(running.calls()).toBe(before);

  const stats = await http.get('/vendor/stats').expect(200);
  expect(stats.body.calls).toBe(running.calls());
  expect(stats.body.byEndpoint).toEqual({ quote: 1, history: 1, fundamentals: 1, symbols: 1 });
}, LONG);

test('a symbol in any case is one key: "aapl" hits what "AAPL" loaded', async () => {
  running = await startApp();
  await running.http.get('/stocks/AAPL/price').expect(200);
  const calls = running.calls();
  const lower = await running.http.get('/stocks/aapl/price').expect(200);
  expect(lower.headers['x-cache']).toBe('HIT');
  expect(lower.body.symbol).toBe('AAPL');
  expect(running.calls()).toBe(calls);
}, LONG);

test('If-None-Match with the current ETag: 304 without a body; a changed value gets a new ETag and 200', async () => {
  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ clock: clock.now });
  const { http } = running;
  const first = await http.get('/stocks/MSFT/price').expect(200);
  const etag = first.headers['etag'] as string;
  expect(etag).toMatch(/^"[0-9a-z]+"$/);
  expect(first.headers['cache-control']).toBe('public, max-age=300, stale-while-revalidate=1800');

  const notModified = await http.get('/stocks/MSFT/price').set('If-None-Match', etag).expect(304);
  expect(notModified.text).toBe('');
  expect(notModified.headers['etag']).toBe(etag);
  await http.get('/stocks/MSFT/price').set('If-None-Match', `"other", W/${etag}`).expect(304);
  await http.get('/stocks/MSFT/price').set('If-None-Match', '"other"').expect(200);

  // Ten minutes later (two vendor ticks on) the price has moved: a new version, a new ETag.
  clock.advance(10 * 60_000);
  await http.get('/stocks/MSFT/price').expect(200); // STALE, reloads in the background
  await waitFor(async () => (await http.get('/stocks/MSFT/price')).headers['x-cache'] === 'HIT');
  const changed = await http.get('/stocks/MSFT/price').set('If-None-Match', etag).expect(200);
  expect(changed.headers['etag']).not.toBe(etag);
  expect(changed.body).toEqual(quoteAt(symbolInfo('MSFT')!, clock.now(), 60_000));
}, LONG);

test('500 concurrent requests for one cold price make one vendor call', async () => {
  running = await startApp({ vendor: { latencyMs: { min: 100, max: 100 } } });
  const before = running.calls();
  const answers = await Promise.all(Array.from({ length: 500 }, () => running!.http.get('/stocks/NVDA/price')));
  expect(answers.every((answer) => answer.status === 200)).toBe(true);
  expect(new Set(answers.map((answer) => answer.body.price)).size).toBe(1);
  expect(running.calls()).toBe(before + 1);
}, LONG);

test('price TTL follows NYSE hours: 5 min while open, until the next open when closed', async () => {
  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ clock: clock.now });
  const open = await running.http.get('/stocks/AAPL/price').expect(200);
  expect(open.headers['cache-control']).toBe('public, max-age=300, stale-while-revalidate=1800');

  clock.set(MARKET_CLOSED);
  const closed = await running.http.get('/stocks/KO/price').expect(200);
  // Saturday 12:00 -> Monday 09:30 New York time: 45.5 hours.
  expect(closed.headers['cache-control']).toBe(`public, max-age=${45.5 * 3600}, stale-while-revalidate=1800`);
  // History keeps its fixed 1 h whatever the market does.
  const history = await running.http.get('/stocks/KO/history').expect(200);
  expect(history.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=21600');
}, LONG);

test('after its TTL a price is served STALE at once while the vendor fails, and refreshed when it recovers', async () => {
  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ clock: clock.now });
  const { http, vendor } = running;
  const fresh = await http.get('/stocks/JPM/price').expect(200);
  clock.advance(6 * 60_000); // past the 5 min TTL, within the 30 min grace
  vendor.configure({ failureRate: 1 });
  const stale = await http.get('/stocks/JPM/price').expect(200);
  expect(stale.headers['x-cache']).toBe('STALE');
  expect(stale.body).toEqual(fresh.body);
  expect(stale.headers['cache-control']).toBe('public, max-age=0, stale-while-revalidate=1740'); // 5 min TTL + 30 min grace - 6 min
  await waitFor(async () => vendor.stats().failed > 0);

  vendor.configure({ failureRate: 0 });
  clock.advance(60_000); // past the retry back-off of the failed refresh
  await waitFor(async () => (await http.get('/stocks/JPM/price')).headers['x-cache'] === 'HIT');
  const recovered = await http.get('/stocks/JPM/price').expect(200);
  expect(recovered.body).toEqual(quoteAt(symbolInfo('JPM')!, clock.now(), 60_000));
}, LONG);

test('bad input and vendor errors: 400 invalid_symbol, 404 unknown_symbol, 502 vendor_unavailable, 503 with Retry-After', async () => {
  running = await startApp();
  const { http, vendor } = running;
  vendor.configure({ rateLimitPerSecond: 1 }); // after start-up warming, so its calls do not count
  const before = running.calls();
  const bad = await http.get('/stocks/a-b!/price').expect(400);
  expect(bad.body).toMatchObject({ code: 'invalid_symbol' });
  expect(bad.body.message).toContain('a-b!');
  await http.get(`/stocks/${'A'.repeat(11)}/price`).expect(400);
  expect(running.calls()).toBe(before); // refused before the cache or the vendor

  const unknown = await http.get('/stocks/NOSUCH/price').expect(404);
  expect(unknown.body).toMatchObject({ code: 'unknown_symbol' });
  expect(unknown.body.message).toContain('NOSUCH');

  // The one call this second was used by NOSUCH: the next distinct symbol is refused by the vendor.
  const limited = await http.get('/stocks/AAPL/fundamentals').expect(503);
  expect(limited.body).toMatchObject({ code: 'vendor_rate_limited' });
  expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(limited.headers['cache-control']).toBe('no-store');

  vendor.configure({ rateLimitPerSecond: 0, failureRate: 1 });
  const failing = await http.get('/stocks/MSFT/fundamentals').expect(502);
  expect(failing.body).toMatchObject({ code: 'vendor_unavailable' });
  // A failure is not cached: the vendor is asked again, and answers now.
  vendor.configure({ failureRate: 0 });
  const ok = await http.get('/stocks/MSFT/fundamentals').expect(200);
  expect(ok.headers['x-cache']).toBe('MISS');
}, LONG);

test('start-up warming loads the top symbols: their first requests are HITs', async () => {
  running = await startApp({ warmSymbols: ['AAPL', 'MSFT'] });
  // The symbol list and 3 keys per symbol.
  expect(running.stats().byEndpoint).toEqual({ quote: 2, history: 2, fundamentals: 2, symbols: 1 });
  const before = running.calls();
  for (const path of ['/stocks/AAPL/price', '/stocks/MSFT/history', '/stocks/MSFT/fundamentals']) {
    const answer = await running.http.get(path).expect(200);
    expect(answer.headers['x-cache']).toBe('HIT');
  }
  expect(running.calls()).toBe(before);
}, LONG);

test('CACHE_MODE=off: every request is a vendor call and a MISS', async () => {
  running = await startApp({ cacheMode: 'off', warmSymbols: ['AAPL'] });
  expect(running.calls()).toBe(0); // nothing to warm without a cache
  for (let i = 1; i <= 3; i++) {
    const answer = await running.http.get('/stocks/AAPL/price').expect(200);
    expect(answer.headers['x-cache']).toBe('MISS');
    expect(running.calls()).toBe(i);
  }
}, LONG);

test('CACHE_MODE=cache-manager (the benchmark peer): the second request is answered without the vendor', async () => {
  running = await startApp({ cacheMode: 'cache-manager' });
  const before = running.calls();
  const first = await running.http.get('/stocks/AAPL/price').expect(200);
  const second = await running.http.get('/stocks/AAPL/price').expect(200);
  expect(second.body).toEqual(first.body);
  expect(second.headers['x-cache']).toBe('HIT');
  expect(running.calls()).toBe(before + 1);
}, LONG);

async function waitFor(done: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('structured request log: one entry per response with its X-Cache verdict', async () => {
  const entries: RequestLogEntry[] = [];
  running = await startApp({ requestLog: (entry) => entries.push(entry) });
  await running.http.get('/stocks/AAPL/price').expect(200);
  await running.http.get('/stocks/AAPL/price').expect(200);
  await running.http.get('/stocks/a-b!/price').expect(400);
  expect(entries.map(({ path, status, cache }) => ({ path, status, cache }))).toEqual([
    { path: '/stocks/AAPL/price', status: 200, cache: 'MISS' },
    { path: '/stocks/AAPL/price', status: 200, cache: 'HIT' },
    { path: '/stocks/a-b!/price', status: 400, cache: null },
  ]);
  expect(entries.every((entry) => entry.event === 'request' && entry.method === 'GET' && entry.ms >= 0)).toBe(true);
}, LONG);
