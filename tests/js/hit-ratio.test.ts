// tests/js/hit-ratio.test.ts: object mode's front tells the core's policy the keys it missed, so
// its hit ratio is bytes mode's (jest.config.cjs runs the file on native and on wasm).
//
// W-TinyLFU learns a key's frequency from its misses too: a key missed often is admitted over a
// victim read less. Object mode answers misses in JavaScript and replays them, with their keys,
// before its next write (ObjectCache.reportAccesses); bytes mode's misses happen in the core.
// The traces are the project's inputs in ../shared/traces (as tests/core's trace test reads
// them): when they are missing the test fails and says where it looked, it never skips.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Cache, ValueMode } from 'tickcache';
import { makeCache } from './support/harness.js';

const MODES: ValueMode[] = ['object', 'bytes'];
const TRACES_DIR = fileURLToPath(new URL('../../../shared/traces/', import.meta.url));
const HASH_SEED = 7;

/** A W-TinyLFU cache of 100 entries, each read twice, so a newcomer needs a frequency above 2. */
async function fullCache(mode: ValueMode): Promise<Cache<number>> {
  const cache = await makeCache<number>({ maxEntries: 100, mode, policy: 'w-tinylfu', shards: 1, hashSeed: HASH_SEED });
  for (let i = 0; i < 200; i++) cache.set(`held:${i}`, i);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) if (cache.has(`held:${i}`)) cache.get(`held:${i}`);
  }
  expect(cache.size).toBe(100);
  return cache;
}

/** Sets `keys`, then 100 new keys so each leaves the window and meets admission: how many stay. */
function setAndPush(cache: Cache<number>, keys: readonly string[]): number {
  for (const key of keys) cache.set(key, 1);
  for (let i = 0; i < 100; i++) cache.set(`push:${i}`, i);
  return keys.filter((key) => cache.has(key)).length;
}

const WANTED = ['wanted:a', 'wanted:ключ€', `wanted:${'long'.repeat(100)}`];

function missEach(cache: Cache<number>, keys: readonly string[], times: number): void {
  for (let round = 0; round < times; round++) for (const key of keys) expect(cache.get(key)).toBeUndefined();
}

describe.each(MODES)('%s mode', (mode) => {
  test('keys missed more often than the victims were read are admitted; missed less, rejected', async () => {
    const often = await fullCache(mode);
    missEach(often, WANTED, 5);
    expect(setAndPush(often, WANTED)).toBe(WANTED.length);
    const rarely = await fullCache(mode);
    missEach(rarely, WANTED, 1);
    expect(setAndPush(rarely, WANTED)).toBe(0);
    // Misses are counted once each, whether or not their keys were replayed.
    expect(often.stats().misses).toBe(WANTED.length * 5);
    expect(rarely.stats().misses).toBe(WANTED.length);
  });

  test('every miss counts, however many come between two writes', async () => {
    const cache = await makeCache<number>({ maxEntries: 100, mode });
    for (let i = 0; i < 5000; i++) cache.get(`absent:${i}`);
    cache.set('k', 1);
    for (let i = 0; i < 3; i++) cache.get(`absent:${i}`);
    expect(cache.stats().misses).toBe(5003);
  });
});

test('object mode keeps the last 1024 missed keys between two writes, the newest included', async () => {
  // Missed after 2000 other misses: among the last 1024, replayed, admitted.
  const late = await fullCache('object');
  for (let i = 0; i < 2000; i++) late.get(`absent:${i}`);
  missEach(late, WANTED, 5);
  expect(setAndPush(late, WANTED)).toBe(WANTED.length);
  // Missed before 2000 other misses: out of the buffer, counted only, rejected.
  const early = await fullCache('object');
  missEach(early, WANTED, 5);
  for (let i = 0; i < 2000; i++) early.get(`absent:${i}`);
  expect(setAndPush(early, WANTED)).toBe(0);
  expect(early.stats().misses).toBe(late.stats().misses);
});

/** The trace's keys, in request order (README.md there: gzip text, one integer key per line). */
function readTrace(name: string): string[] {
  const file = `${TRACES_DIR}${name}.keys.gz`;
  if (!existsSync(file)) throw new Error(`${file} is missing: the traces are expected in ${TRACES_DIR} (see its README.md)`);
  const keys = gunzipSync(readFileSync(file)).toString('latin1').split('\n');
  if (keys[keys.length - 1] === '') keys.pop();
  return keys;
}

/** Cache-aside: get, and set on a miss. The hit ratio in percent, checked against the stats. */
async function replay(keys: readonly string[], mode: ValueMode, maxEntries: number): Promise<number> {
  const cache = await makeCache<number>({ maxEntries, mode, policy: 'w-tinylfu', hashSeed: HASH_SEED });
  let hits = 0;
  for (const key of keys) {
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, 1);
  }
  const stats = cache.stats();
  expect(stats.hits + stats.staleHits).toBe(hits);
  expect(stats.misses).toBe(keys.length - hits);
  return (100 * hits) / keys.length;
}

// Before object mode replayed its missed keys (measured on both backends, hash seed 7):
// lirs-gli@1000 49.59 % object vs 50.72 % bytes, arc-oltp@1000 15.38 % vs 40.78 %.
test.each([
  ['lirs-gli', 1000, 6015],
  ['arc-oltp', 1000, 914_145],
])('%s@%d: object mode hits within 0.5 pp of bytes mode', async (name, capacity, requests) => {
  const keys = readTrace(name);
  expect(keys.length).toBe(requests);
  const object = await replay(keys, 'object', capacity);
  const bytes = await replay(keys, 'bytes', capacity);
  expect(Math.abs(object - bytes)).toBeLessThanOrEqual(0.5);
  // A policy that works: well above LRU's 11.21 % and 32.83 % (the traces' README).
  expect(bytes).toBeGreaterThan(name === 'lirs-gli' ? 40 : 35);
}, 60_000);
