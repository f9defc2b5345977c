// tests/service/refresher.test.ts: the refresher reloads hot keys near expiry, only those, with
// retries and back-off, counts changed and unchanged values (an unchanged value keeps its
// version), and keeps its interval with jitter. Runs are started by hand (runOnce) on a fake
// clock; the timer itself is checked for its delay bounds and for stopping.

import { createCache } from '../../js/src/index.js';
import type { Cache } from '../../js/src/index.js';
import { Refresher } from '../../js/src/tiered/refresher.js';
import { TieredCache } from '../../js/src/tiered/tiered-cache.js';
import type { Stored } from '../../js/src/tiered/tiered-cache.js';

let now = Date.UTC(2026, 10, 23, 15, 0, 0);
const clock = (): number => now;
let l1: Cache<Stored>;
let tiered: TieredCache;

beforeEach(async () => {
  now = Date.UTC(2026, 10, 23, 15, 0, 0);
  l1 = await createCache<Stored>({ maxEntries: 1000, clock });
  tiered = new TieredCache({ l1, clock });
});

afterEach(async () => {
  await tiered.close();
});

test('reloads the hot keys near expiry, only those, and counts what changed', async () => {
  const refresher = tiered.startRefresher({ intervalMs: 60_000 });
  const prices: Record<string, number> = { AAPL: 1, MSFT: 2, NVDA: 3, COLD: 4 };
  const calls: string[] = [];
  const loader = (key: string): number => {
    calls.push(key);
    return prices[key.split(':')[1]!]!;
  };
  await tiered.getOrSet('p:AAPL', loader, { ttl: '90s' });
  await tiered.getOrSet('p:MSFT', loader, { ttl: '90s' });
  await tiered.getOrSet('p:NVDA', loader, { ttl: '10m' }); // hot, but far from expiry
  await tiered.getOrSet('p:COLD', loader, { ttl: '90s' });
  await refresher.runOnce(); // the loads themselves count as reads: start from a clean slate
  calls.length = 0;
  now += 45_000; // AAPL and MSFT: 45 s left, less than the interval
  const versionBefore = l1.peek('p:MSFT')?.value.version;
  await tiered.getOrSet('p:AAPL', loader);
  await tiered.getOrSet('p:MSFT', loader);
  await tiered.getOrSet('p:NVDA', loader);
  prices['AAPL'] = 10; // AAPL changes at the vendor; MSFT does not
  const report = await refresher.runOnce();
  expect(calls.sort()).toEqual(['p:AAPL', 'p:MSFT']);
  expect(report).toMatchObject({ checked: 3, refreshed: 2, changed: 1, unchanged: 1, failed: 0 });
  expect(l1.peek('p:AAPL')?.value.value).toBe(10);
  expect(l1.peek('p:AAPL')?.ttl).toBe(90_000);
  expect(l1.peek('p:MSFT')?.value.version).toBe(versionBefore);
  expect(refresher.lastReport).toBe(report);
  // Nothing was read since: the next run has nothing to do.
  expect(await refresher.runOnce()).toMatchObject({ checked: 0, refreshed: 0 });
});

test('retries a failing reload with back-off and reports the failure', async () => {
  const refresher = tiered.startRefresher({ intervalMs: 60_000, retries: 2, backoffMs: 5 });
  let attempts = 0;
  let failing = false;
  const loader = async (): Promise<string> => {
    attempts++;
    if (failing) throw new Error('vendor down');
    return 'v';
  };
  await tiered.getOrSet('k', loader, { ttl: '30s' });
  await tiered.getOrSet('flaky', loader, { ttl: '30s' });
  await refresher.runOnce();
  failing = true;
  attempts = 0;
  await tiered.getOrSet('k', loader);
  const started = performance.now();
  const report = await refresher.runOnce();
  expect(attempts).toBe(3); // 1 + 2 retries
  expect(performance.now() - started).toBeGreaterThanOrEqual(5 + 10 - 2); // 5 ms, then 10 ms
  expect(report).toMatchObject({ checked: 1, refreshed: 0, failed: 1, retries: 2 });
  expect(l1.peek('k')?.value.value).toBe('v'); // the old value stays
});

test('the interval carries jitter within its bounds; stop() ends it; bad options are refused', async () => {
  let r = 0;
  const values = [0, 1, 0.5];
  const refresher = new Refresher(tiered, { intervalMs: 300_000, jitter: 0.1, random: () => values[r++ % 3]! });
  expect(refresher.nextDelayMs()).toBe(270_000);
  expect(refresher.nextDelayMs()).toBe(330_000);
  expect(refresher.nextDelayMs()).toBe(300_000);
  expect(new Refresher(tiered).nextDelayMs()).toBeGreaterThanOrEqual(270_000); // 5 minutes by default
  expect(new Refresher(tiered).nextDelayMs()).toBeLessThanOrEqual(330_000);
  const quick = new Refresher(tiered, { intervalMs: 20, jitter: 0 }).start();
  await new Promise((resolve) => setTimeout(resolve, 90));
  await quick.stop();
  const runs = quick.runs;
  expect(runs).toBeGreaterThanOrEqual(2);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(quick.runs).toBe(runs);
  expect(() => new Refresher(tiered, { intervalMs: 0 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  expect(() => new Refresher(tiered, { jitter: 1 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
});

test('close() stops the refresher', async () => {
  const refresher = tiered.startRefresher({ intervalMs: 10 });
  await tiered.close();
  const runs = refresher.runs;
  await new Promise((resolve) => setTimeout(resolve, 40));
  expect(refresher.runs).toBe(runs);
  expect(tiered.refresher).toBeUndefined();
});
