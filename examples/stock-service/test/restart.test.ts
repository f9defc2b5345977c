// test/restart.test.ts: L1 backed by files (the default of `bash run.sh`): a restarted service
// starts warm -- what the first process loaded is answered by the second as a HIT, with the same
// ETag and no vendor call, and its start-up warming finds those keys cached.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { L1_STORE_MAX_BYTES } from '../src/config.js';
import { startApp } from './support/app.js';
import type { RunningApp } from './support/app.js';

const LONG = 20_000;
let directory: string;
const apps: RunningApp[] = [];

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'stock-service-l1-'));
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  rmSync(directory, { recursive: true, force: true });
});

async function start(warmSymbols: string[] = []): Promise<RunningApp> {
  const app = await startApp({ l1Store: { directory, maxFileBytes: L1_STORE_MAX_BYTES }, warmSymbols });
  apps.push(app);
  return app;
}

test('a restart is warm: the second process answers what the first loaded as HITs, without the vendor', async () => {
  const first = await start(['AAPL']);
  expect(first.stats().byEndpoint).toEqual({ quote: 1, history: 1, fundamentals: 1, symbols: 1 });
  const loaded = await first.http.get('/stocks/KO/history').expect(200);
  expect(loaded.headers['x-cache']).toBe('MISS');
  await first.close();
  apps.length = 0;

  const second = await start(['AAPL']);
  expect(second.calls()).toBe(0); // warming found all four keys in the files
  const history = await second.http.get('/stocks/KO/history').expect(200);
  expect(history.headers['x-cache']).toBe('HIT');
  expect(history.headers['etag']).toBe(loaded.headers['etag']);
  expect(history.body).toEqual(loaded.body);
  expect((await second.http.get('/stocks/AAPL/price').expect(200)).headers['x-cache']).toBe('HIT');
  expect(second.calls()).toBe(0);
}, LONG);

test('an invalidation is kept across a restart: a cleared symbol is loaded again', async () => {
  const first = await start();
  await first.http.get('/stocks/MSFT/price').expect(200);
  await first.http.get('/stocks/KO/price').expect(200);
  await first.cache!.invalidatePattern('*:MSFT');
  await first.close();
  apps.length = 0;

  const second = await start();
  expect((await second.http.get('/stocks/KO/price').expect(200)).headers['x-cache']).toBe('HIT');
  expect((await second.http.get('/stocks/MSFT/price').expect(200)).headers['x-cache']).toBe('MISS');
  expect(second.stats().byEndpoint.quote).toBe(1);
}, LONG);
