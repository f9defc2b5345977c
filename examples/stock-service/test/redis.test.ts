// test/redis.test.ts: the stock service with REDIS_URL, against a real redis-server: two app
// instances sharing Redis (a price one loaded is an L2 HIT in the other with no vendor call;
// concurrent misses spread over both make one vendor call; an invalidation in one reaches the
// other's L1), and Redis going down and coming back under steady requests (every request
// answered with the right data, the breaker opens and closes, L2 and the bus work again).

import { UNIVERSE, fundamentalsOf, symbolInfo } from '../src/vendor/market-data.js';
import type { RunningApp } from './support/app.js';
import { ADMIN_TOKEN, startApp } from './support/app.js';
import { startRedis } from '../../../tests/service/support/redis.js';
import type { RedisServer } from '../../../tests/service/support/redis.js';

const LONG = 30_000;
const AUTH = { Authorization: `Bearer ${ADMIN_TOKEN}` };

let redis: RedisServer;
const apps: RunningApp[] = [];
let namespaceCounter = 0;

beforeAll(async () => {
  redis = await startRedis('stock-service');
}, LONG);

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

afterAll(async () => {
  await redis?.teardown();
}, LONG);

/** `count` instances of the service on one Redis namespace of their own (one per test). */
async function instances(count: number): Promise<RunningApp[]> {
  const namespace = `stock${++namespaceCounter}:`;
  const started: RunningApp[] = [];
  for (let i = 0; i < count; i++) {
    const app = await startApp({ redisUrl: `redis://127.0.0.1:${redis.port}`, redisNamespace: namespace });
    apps.push(app);
    started.push(app);
  }
  return started;
}

async function waitFor(what: string, done: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

test('two instances: what one loaded is an L2 HIT in the other (no vendor call), with the same ETag', async () => {
  const [a, b] = (await instances(2)) as [RunningApp, RunningApp];
  const loaded = await a.http.get('/stocks/AAPL/fundamentals').expect(200);
  expect(loaded.headers['x-cache']).toBe('MISS');
  const callsOfB = b.calls();
  const l2HitsOfB = b.cache!.stats().l2.hits; // B's warming found A's symbol list in L2 already
  const fromL2 = await b.http.get('/stocks/AAPL/fundamentals').expect(200);
  expect(fromL2.headers['x-cache']).toBe('HIT');
  expect(fromL2.body).toEqual(fundamentalsOf(symbolInfo('AAPL')!));
  expect(fromL2.headers['etag']).toBe(loaded.headers['etag']);
  expect(b.calls()).toBe(callsOfB);
  expect(b.cache!.stats().l2.hits).toBe(l2HitsOfB + 1);
  // B's L1 holds it now: the next answer does not even ask Redis.
  const l1HitsOfB = b.cache!.stats().l1.hits;
  await b.http.get('/stocks/AAPL/fundamentals').expect(200);
  expect(b.cache!.stats().l2.hits).toBe(l2HitsOfB + 1);
  expect(b.cache!.stats().l1.hits).toBe(l1HitsOfB + 1);
}, LONG);

test('two instances: 200 concurrent misses of one key, spread over both, make one vendor call in all', async () => {
  const [a, b] = (await instances(2)) as [RunningApp, RunningApp];
  a.vendor.configure({ latencyMs: { min: 200, max: 200 } });
  b.vendor.configure({ latencyMs: { min: 200, max: 200 } });
  const before = a.calls() + b.calls();
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).http.get('/stocks/TSLA/history')),
  );
  expect(answers.map((answer) => answer.status).filter((status) => status !== 200)).toEqual([]);
  expect(new Set(answers.map((answer) => answer.headers['etag'])).size).toBe(1);
  expect(a.calls() + b.calls()).toBe(before + 1);
}, LONG);

test("an invalidation in one instance reaches the other's L1 (the bus) and L2", async () => {
  const [a, b] = (await instances(2)) as [RunningApp, RunningApp];
  for (const app of [a, b]) {
    await app.http.get('/stocks/MSFT/price').expect(200);
    await app.http.get('/stocks/KO/price').expect(200);
  }
  expect(b.cache!.l1.peek('price:latest:MSFT')).toBeDefined();

  await a.http.post('/cache/invalidate').query({ event: 'price.updated', data: JSON.stringify({ symbol: 'MSFT' }) }).set(AUTH).expect(200);
  const tookMs = await waitFor('B drops MSFT from L1', async () => b.cache!.l1.peek('price:latest:MSFT') === undefined);
  console.log(`stock-service: an invalidation reached the other instance's L1 in ${tookMs} ms`);
  expect(b.cache!.l1.peek('price:latest:KO')).toBeDefined(); // only what the event names

  // Gone from L2 as well: B's next request is a MISS, one vendor call, and A then hits B's load in L2.
  const callsOfB = b.calls();
  expect((await b.http.get('/stocks/MSFT/price').expect(200)).headers['x-cache']).toBe('MISS');
  expect(b.calls()).toBe(callsOfB + 1);
  await waitFor('A drops MSFT', async () => a.cache!.l1.peek('price:latest:MSFT') === undefined);
  const callsOfA = a.calls();
  expect((await a.http.get('/stocks/MSFT/price').expect(200)).headers['x-cache']).toBe('HIT');
  expect(a.calls()).toBe(callsOfA);

  // The same for everything: DELETE /cache/clear in B empties A's L1.
  await b.http.delete('/cache/clear').set(AUTH).expect(200);
  await waitFor('A is emptied', async () => a.cache!.l1.size === 0);
}, LONG);

test('redis-server stopped and restarted under steady requests: every request answered, breaker opens and closes, L2 and the bus return', async () => {
  const [a, b] = (await instances(2)) as [RunningApp, RunningApp];
  const cached = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
  for (const symbol of cached) await a.http.get(`/stocks/${symbol}/fundamentals`).expect(200);
  // Symbols never asked for before: each is a lookup in L2 (down: a failure the breaker counts).
  const fresh = UNIVERSE.slice(100).map((info) => info.symbol);

  const failures: string[] = [];
  let answered = 0;
  let stop = false;
  // Both instances, cached and new symbols, while Redis goes away and returns.
  const load = (async () => {
    for (let i = 0; !stop; i++) {
      const app = i % 2 === 0 ? a : b;
      const symbol = i % 3 === 0 ? fresh[(i / 3) % fresh.length]! : cached[i % cached.length]!;
      const response = await app.http.get(`/stocks/${symbol}/fundamentals`);
      if (response.status !== 200 || response.body.symbol !== symbol || response.body.name !== symbolInfo(symbol)!.name) {
        failures.push(`${symbol}: ${response.status} ${JSON.stringify(response.body).slice(0, 120)}`);
      }
      answered++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.stop();
    await waitFor('the breakers open', async () => a.cache!.breakerState !== 'closed' && b.cache!.breakerState !== 'closed', 10_000);
    const health = await a.http.get('/cache/health').set(AUTH).expect(503);
    expect(health.body.reasons.join(' ')).toMatch(/breaker/);
    await a.http.get('/health').expect(200); // the service itself stays up
    const duringOutage = answered;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(answered).toBeGreaterThan(duringOutage + 20); // answering all along, not stalled

    await redis.start();
    await waitFor('the breakers close', async () => a.cache!.breakerState === 'closed' && b.cache!.breakerState === 'closed', 15_000);
  } finally {
    stop = true;
    await load;
    if (!redis.running) await redis.start();
  }
  expect(failures).toEqual([]);
  expect(a.cache!.stats().l2.breakerOpened).toBeGreaterThanOrEqual(1);
  expect(b.cache!.stats().l2.breakerOpened).toBeGreaterThanOrEqual(1);

  // L2 again: a key A loads now is an L2 hit in B; the bus again: A's clear reaches B.
  await a.http.get('/stocks/CVX/history').expect(200);
  const callsOfB = b.calls();
  expect((await b.http.get('/stocks/CVX/history').expect(200)).headers['x-cache']).toBe('HIT');
  expect(b.calls()).toBe(callsOfB);
  await waitFor('the bus carries a clear again', async () => {
    await a.http.post('/cache/clear/CVX').set(AUTH).expect(200);
    return b.cache!.l1.peek('data:recent:CVX') === undefined;
  }, 10_000);
  console.log(`stock-service: ${answered} requests answered across the Redis outage, 0 failed`);
}, LONG);
