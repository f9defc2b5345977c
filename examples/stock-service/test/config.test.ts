// test/config.test.ts: the service's configuration: no environment gives the embedded defaults;
// every bad variable stops start-up with code bad_config naming the variable and the value; the
// cache file (CACHE_CONFIG) replaces the TTL rules and the event map, and a bad rule or event
// in it is refused by tickcache with the field named -- the service never starts half-configured.

import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createStockApp } from '../src/app.js';
import { ConfigError, DEFAULT_EVENTS, DEFAULT_POLICY, defaultSettings, settingsFromEnv } from '../src/config.js';
import { ADMIN_TOKEN, MARKET_OPEN, manualClock, startApp } from './support/app.js';
import type { RunningApp } from './support/app.js';

const LONG = 20_000;
const EXAMPLE_FILE = fileURLToPath(new URL('../config/cache.example.json', import.meta.url));
let running: RunningApp | undefined;
let scratch: string | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function fileWith(text: string): string {
  scratch ??= mkdtempSync(path.join(tmpdir(), 'stock-config-'));
  const file = path.join(scratch, 'cache.json');
  writeFileSync(file, text);
  return file;
}

test('no environment: the embedded defaults (port 3000, L1 only, the real vendor pace, USER-NEEDS TTLs)', () => {
  const settings = settingsFromEnv({});
  expect(settings).toEqual(defaultSettings());
  expect(settings).toMatchObject({ port: 3000, cacheMode: 'tickcache', refreshIntervalMs: 300_000 });
  expect(settings.redisUrl).toBeUndefined();
  expect(settings.vendor).toMatchObject({ latencyMs: { min: 500, max: 2000 }, rateLimitPerSecond: 20 });
  expect(settings.warmSymbols.slice(0, 3)).toEqual(['AAPL', 'MSFT', 'NVDA']);
});

test('good variables are read', () => {
  const settings = settingsFromEnv({
    PORT: '8080',
    REDIS_URL: 'redis://10.0.0.5:6379',
    CACHE_MODE: 'off',
    VENDOR_LATENCY_MS: '100-300',
    VENDOR_RATE_LIMIT: '0',
    VENDOR_FAILURE_RATE: '0.5',
    REFRESH_INTERVAL: '90s',
    WARM_SYMBOLS: 'aapl , BRK.B',
    L1_STORE_DIR: '/tmp/l1',
  });
  expect(settings).toMatchObject({ port: 8080, redisUrl: 'redis://10.0.0.5:6379', cacheMode: 'off', refreshIntervalMs: 90_000 });
  expect(settings.vendor).toMatchObject({ latencyMs: { min: 100, max: 300 }, rateLimitPerSecond: 0, failureRate: 0.5 });
  expect(settings.l1Store?.directory).toBe('/tmp/l1');
  expect(settings.warmSymbols).toEqual(['AAPL', 'BRK.B']);
  expect(settingsFromEnv({ WARM_SYMBOLS: 'none' }).warmSymbols).toEqual([]);
  expect(settingsFromEnv({ L1_STORE: 'memory' }, { ...defaultSettings(), l1Store: { directory: '/x', maxFileBytes: 1 } }).l1Store).toBeUndefined();
});

test.each([
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['REDIS_URL', 'http://localhost:6379'],
  ['CACHE_MODE', 'fast'],
  ['VENDOR_LATENCY_MS', '2000-500'],
  ['VENDOR_LATENCY_MS', 'slow'],
  ['VENDOR_RATE_LIMIT', '2.5'],
  ['VENDOR_FAILURE_RATE', '1.5'],
  ['REFRESH_INTERVAL', '5 minutes'],
  ['WARM_SYMBOLS', 'AAPL,no way'],
  ['L1_STORE', 'disk'],
  ['L1_MAX_ENTRIES', '0'],
  ['MIN_HIT_RATE', '80'],
  ['CACHE_CONFIG', '/nonexistent/cache.json'],
])('%s=%j is refused with bad_config naming it', (name, value) => {
  let thrown: unknown;
  try {
    settingsFromEnv({ [name]: value });
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).code).toBe('bad_config');
  expect((thrown as ConfigError).message).toContain(name);
  expect((thrown as ConfigError).message).toContain(value.split(',').pop()!.trim());
});

test('the cache file: bad JSON, a field that is not policy or events, refused by name', () => {
  expect(() => settingsFromEnv({ CACHE_CONFIG: fileWith('{ "policy": ') })).toThrow(/is not JSON/);
  expect(() => settingsFromEnv({ CACHE_CONFIG: fileWith('{ "rules": [] }') })).toThrow(/unknown field "rules"/);
  expect(() => settingsFromEnv({ CACHE_CONFIG: fileWith('[]') })).toThrow(/must hold an object/);
  expect(() => settingsFromEnv({ L1_STORE: 'file' })).toThrow(/L1_STORE_DIR/);
});

test('config/cache.example.json: its rules and event map replace the defaults (prices 2 min while open)', async () => {
  const settings = settingsFromEnv({ CACHE_CONFIG: EXAMPLE_FILE });
  expect(settings.policy).not.toEqual(DEFAULT_POLICY);
  expect(Object.keys(settings.events)).toEqual(['price.updated', 'symbol.corporate-action', 'market.closed']);
  expect(Object.keys(DEFAULT_EVENTS)).toContain('signal.created');

  const clock = manualClock(MARKET_OPEN);
  running = await startApp({ policy: settings.policy, events: settings.events, clock: clock.now });
  const price = await running.http.get('/stocks/AAPL/price').expect(200);
  expect(price.headers['cache-control']).toBe('public, max-age=120, stale-while-revalidate=1800');
  const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  await running.http.post('/cache/invalidate').query({ event: 'signal.created', data: '{"providerId":1}' }).set(auth).expect(400);
  await running.http.post('/cache/invalidate').query({ event: 'market.closed' }).set(auth).expect(200, { removed: 1, byKind: { keys: 0, tags: 0, patterns: 0, prefixes: 0, event: 1 } });
}, LONG);

test('a bad rule or event in the cache file stops start-up with the field named (tickcache invalid_option, bad_config)', async () => {
  const file = fileWith(JSON.stringify({ policy: { rules: [{ match: 'price:latest:*', ttl: 'soon' }] } }));
  const settings = settingsFromEnv({ CACHE_CONFIG: file });
  await expect(createStockApp({ ...settings, logs: false })).rejects.toMatchObject({ code: 'invalid_option', message: expect.stringContaining('config.rules[0].ttl') });
  const badEvents = settingsFromEnv({ CACHE_CONFIG: fileWith(JSON.stringify({ events: { 'price.updated': { keys: 'price:latest:{symbol}' } } })) });
  await expect(createStockApp({ ...badEvents, logs: false })).rejects.toMatchObject({ code: 'bad_config', message: expect.stringContaining('events.price.updated.keys') });
}, LONG);
