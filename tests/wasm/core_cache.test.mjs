// tests/wasm/core_cache.test.mjs: the wasm CoreCache (wasm/core_cache.mjs over
// wasm/exports.cc) against bindings/PROTOCOL.md, under node's built-in runner:
//   node --test tests/wasm/
// It loads the build's copy (build/wasm/wasm/, made by scripts/wasm-build.sh; another folder
// through TICKCACHE_WASM_DIR). Time is a fake `now` passed to each call: nothing sleeps.
// Every error case also checks that the call changed nothing and the cache still works.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir =
  process.env.TICKCACHE_WASM_DIR ?? path.join(here, '..', '..', 'build', 'wasm', 'wasm');
const gluePath = path.join(wasmDir, 'core_cache.mjs');

const MISS = 0;
const FRESH = 1;
const STALE = 2;
const T0 = 1_700_000_000_000;  // any fake epoch; the clock only has to move forward

let glue;
let wasm;

before(async () => {
  assert.ok(existsSync(gluePath), `${gluePath} is missing: run bash scripts/wasm-build.sh`);
  glue = await import(pathToFileURL(gluePath).href);
  wasm = await glue.loadTickcacheWasm();
});

const bytes = (...list) => Uint8Array.from(list);
const utf8 = (text) => new TextEncoder().encode(text);

function open(options = { maxEntries: 1000 }) {
  return wasm.createCoreCache(JSON.stringify(options));
}

// Asserts that fn throws an Error whose code is `code`; returns it.
function throwsCode(fn, code) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected an Error with code ${code}, nothing was thrown`);
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  assert.equal(typeof caught.message, 'string');
  return caught;
}

let probes = 0;

// The cache still holds `key` -> `value` and still takes a new entry.
function assertIntact(cache, key, value, now) {
  const out = new Float64Array(3);
  assert.deepEqual(cache.get(key, now, out), value, `${key} survived`);
  assert.equal(out[0], FRESH);
  const probe = `probe${++probes}`;
  cache.set(probe, bytes(7), NaN, NaN, null, now);
  assert.deepEqual(cache.peek(probe, now, out), bytes(7));
  assert.equal(cache.delete(probe), true);
}

describe('loading', () => {
  test('loadTickcacheWasm resolves once per realm', async () => {
    assert.equal(await glue.loadTickcacheWasm(), wasm);
    assert.equal(typeof wasm.createCoreCache, 'function');
  });

  test('the factory also runs as a page would load it (no process, no require)', async () => {
    // A realm with only what a page has: the factory must take its web path (atob for the
    // embedded wasm, crypto.getRandomValues for the hash seed) and never reach for Node.
    const page = vm.createContext({ WebAssembly, TextDecoder, TextEncoder, atob, crypto,
                                    performance, setTimeout, clearTimeout, console });
    page.window = page;
    page.self = page;
    vm.runInContext(readFileSync(path.join(wasmDir, 'tickcache_wasm.cjs'), 'utf8'), page);
    assert.equal(typeof page.createTickcacheModule, 'function');
    const separate = await glue.loadTickcacheWasm({ factory: page.createTickcacheModule });
    assert.notEqual(separate, wasm);
    const cache = separate.createCoreCache('{"maxEntries": 4}');
    const out = new Float64Array(3);
    cache.set('k', bytes(1, 2), 1000, 0, null, T0);
    assert.deepEqual([...cache.get('k', T0, out)], [1, 2]);  // a Uint8Array of the page's realm
    assert.deepEqual([...out], [FRESH, 1000, 1000]);
    cache.close();
  });

  test('createCoreCache works once the module is loaded', () => {
    const cache = glue.createCoreCache('{"maxEntries": 4}');
    cache.set('k', bytes(1), NaN, NaN, null, T0);
    assert.equal(cache.entries(), 1);
    cache.close();
  });
});

describe('every PROTOCOL.md call', () => {
  test('get peek has set delete invalidate* clear maintenance entries bytes stats close', () => {
    const cache = open({ maxEntries: 100, defaultTtl: 1000 });
    const out = new Float64Array(3);

    assert.equal(cache.set('user:1', bytes(1, 2, 3), NaN, NaN, ['red'], T0), undefined);
    cache.set('user:2', bytes(4), NaN, NaN, ['red', 'blue'], T0);
    cache.set('post:1', bytes(5), 60_000, 0, null, T0);
    cache.set('post:2', bytes(6), 60_000, 0, [], T0);
    cache.set('misc', bytes(), 60_000, 0, ['blue'], T0);
    assert.equal(cache.entries(), 5);
    assert.ok(cache.bytes() > 0);

    assert.deepEqual(cache.get('user:1', T0, out), bytes(1, 2, 3));
    assert.deepEqual([...out], [FRESH, 1000, 1000]);
    assert.deepEqual(cache.peek('misc', T0, out), bytes());  // an empty value is a hit
    assert.equal(out[0], FRESH);
    assert.equal(cache.has('post:1', T0), FRESH);
    assert.equal(cache.has('nope', T0), MISS);

    assert.equal(cache.delete('post:2'), true);
    assert.equal(cache.delete('post:2'), false);
    assert.equal(cache.invalidateTag('blue'), 2);  // user:2, misc
    assert.equal(cache.invalidateTag('blue'), 0);
    assert.equal(cache.invalidatePrefix('user'), 1);  // user:1 (namespace "user")
    cache.set('post:3', bytes(7), 60_000, 0, null, T0);
    assert.equal(cache.invalidatePattern('post:?'), 2);
    assert.equal(cache.entries(), 0);

    cache.set('a', bytes(1), 100, 0, null, T0);
    cache.set('b', bytes(2), 60_000, 0, null, T0);
    assert.equal(cache.maintenance(T0 + 5_000), 1);  // a's grace is over
    assert.equal(cache.clear(), 1);
    assert.equal(cache.entries(), 0);
    assert.equal(cache.bytes(), 0);

    const stats = JSON.parse(cache.statsJson());
    assert.equal(stats.maxEntries, 100);
    assert.equal(stats.sets, 8);
    assert.equal(stats.hits, 1);  // peek and has do not count
    assert.equal(stats.deletes, 1);
    assert.equal(stats.expirations, 1);

    assert.equal(cache.close(), undefined);
  });
});

describe('freshness with a fake now', () => {
  test('fresh, then stale within grace, then a miss', () => {
    const cache = open();
    const out = new Float64Array(3);
    cache.set('k', utf8('v'), 1000, 500, null, T0);

    assert.deepEqual(cache.get('k', T0 + 100, out), utf8('v'));
    assert.deepEqual([...out], [FRESH, 900, 1400]);
    assert.deepEqual(cache.get('k', T0 + 1200, out), utf8('v'));
    assert.deepEqual([...out], [STALE, 0, 300]);
    assert.equal(cache.has('k', T0 + 1200), STALE);
    assert.equal(cache.get('k', T0 + 1500, out), null);
    assert.deepEqual([...out], [MISS, 0, 0]);
    cache.close();
  });

  test('never expiring reads as Infinity; NaN takes the defaults; fractions round up', () => {
    const cache = open({ maxEntries: 10, defaultTtl: '2s', defaultGrace: 250 });
    const out = new Float64Array(3);
    cache.set('forever', bytes(1), Infinity, NaN, null, T0);
    cache.get('forever', T0 + 1e9, out);
    assert.deepEqual([...out], [FRESH, Infinity, Infinity]);

    cache.set('defaults', bytes(2), NaN, NaN, null, T0);
    cache.peek('defaults', T0, out);
    assert.deepEqual([...out], [FRESH, 2000, 2250]);

    cache.set('fraction', bytes(3), 0.25, 0, null, T0);
    cache.peek('fraction', T0, out);
    assert.deepEqual([...out], [FRESH, 1, 1]);
    cache.close();
  });

  test('peek leaves the stats alone; time never steps back', () => {
    const cache = open();
    const out = new Float64Array(3);
    cache.set('k', bytes(1), 1000, 0, null, T0);
    cache.peek('k', T0, out);
    cache.peek('missing', T0, out);
    const stats = JSON.parse(cache.statsJson());
    assert.equal(stats.hits + stats.misses, 0);
    assert.equal(cache.get('k', T0 + 2000, out), null);  // expired
    assert.equal(cache.get('k', T0, out), null, 'an earlier now does not revive it');
    cache.close();
  });
});

describe('errors: a code, nothing changed, the cache still works', () => {
  const keep = bytes(9, 8, 7);
  let cache;
  let closed;

  before(() => {
    cache = open({ maxEntries: 100, maxKeyBytes: 16, maxValueBytes: 1024 });
    cache.set('keep', keep, NaN, NaN, ['t'], T0);
    closed = open();
    closed.set('k', bytes(1), NaN, NaN, null, T0);
    closed.close();
  });

  const out = () => new Float64Array(3);
  const cases = [
    ['empty key on set', (c) => c.set('', bytes(1), NaN, NaN, null, T0), 'empty_key'],
    ['oversized key', (c) => c.set('k'.repeat(17), bytes(1), NaN, NaN, null, T0), 'key_too_large'],
    // Limits count UTF-8 bytes, not UTF-16 units: 6 characters, 18 bytes.
    ['oversized UTF-8 key', (c) => c.set('€€€€€€', bytes(1), NaN, NaN, null, T0),
      'key_too_large'],
    ['oversized value', (c) => c.set('v', new Uint8Array(1025), NaN, NaN, null, T0),
      'value_too_large'],
    ['negative ttl', (c) => c.set('keep', bytes(0), -1, NaN, null, T0), 'invalid_ttl'],
    ['negative grace', (c) => c.set('keep', bytes(0), 10, -5, null, T0), 'invalid_ttl'],
    ['-Infinity ttl', (c) => c.set('keep', bytes(0), -Infinity, NaN, null, T0), 'invalid_ttl'],
    ['ttl past the maximum', (c) => c.set('keep', bytes(0), 1e300, NaN, null, T0), 'invalid_ttl'],
    ['bad pattern', (c) => c.invalidatePattern('keep\\'), 'invalid_pattern'],
    ['a number as key', (c) => c.get(42, T0, out()), 'invalid_argument'],
    ['a string as value', (c) => c.set('keep', 'v', NaN, NaN, null, T0), 'invalid_argument'],
    ['a string as ttl', (c) => c.set('keep', bytes(0), '5m', NaN, null, T0), 'invalid_argument'],
    ['tags not an array', (c) => c.set('keep', bytes(0), NaN, NaN, 'red', T0), 'invalid_argument'],
    ['a tag not a string', (c) => c.set('keep', bytes(0), NaN, NaN, ['a', 1], T0),
      'invalid_argument'],
    ['NaN now', (c) => c.get('keep', NaN, out()), 'invalid_argument'],
    ['a missing out array', (c) => c.get('keep', T0), 'invalid_argument'],
    ['a prefix not a string', (c) => c.invalidatePrefix(undefined), 'invalid_argument'],
  ];
  for (const [name, call, code] of cases) {
    test(name, () => {
      const entries = cache.entries();
      throwsCode(() => call(cache), code);
      assert.equal(cache.entries(), entries);
      assertIntact(cache, 'keep', keep, T0);
    });
  }

  test('bad options documents fail creation and leave other caches alone', () => {
    throwsCode(() => wasm.createCoreCache('{"maxEntries": '), 'bad_config');
    throwsCode(() => wasm.createCoreCache('{"maxEntries": 10, "bogus": 1}'), 'bad_config');
    throwsCode(() => wasm.createCoreCache('{"maxEntries": "ten"}'), 'bad_config');
    throwsCode(() => wasm.createCoreCache('{"maxEntries": 10, "defaultTtl": -5}'), 'bad_config');
    throwsCode(() => wasm.createCoreCache('{}'), 'invalid_argument');  // no bound at all
    throwsCode(() => wasm.createCoreCache({ maxEntries: 10 }), 'invalid_argument');
    assertIntact(cache, 'keep', keep, T0);
  });

  const calls = [
    ['get', (c) => c.get('k', T0, out())],
    ['peek', (c) => c.peek('k', T0, out())],
    ['has', (c) => c.has('k', T0)],
    ['set', (c) => c.set('k', bytes(1), NaN, NaN, null, T0)],
    ['delete', (c) => c.delete('k')],
    ['invalidateTag', (c) => c.invalidateTag('t')],
    ['invalidatePrefix', (c) => c.invalidatePrefix('p')],
    ['invalidatePattern', (c) => c.invalidatePattern('*')],
    ['clear', (c) => c.clear()],
    ['maintenance', (c) => c.maintenance(T0)],
    ['entries', (c) => c.entries()],
    ['bytes', (c) => c.bytes()],
    ['statsJson', (c) => c.statsJson()],
    ['close', (c) => c.close()],
  ];
  for (const [name, call] of calls) {
    test(`${name} after close`, () => {
      throwsCode(() => call(closed), 'closed');
      assertIntact(cache, 'keep', keep, T0);
    });
  }

  test('a closed id stays closed after new caches are created', () => {
    const other = open();
    other.set('k', bytes(2), NaN, NaN, null, T0);
    throwsCode(() => closed.get('k', T0, out()), 'closed');
    assert.deepEqual(other.get('k', T0, out()), bytes(2));
    other.close();
  });
});

describe('bytes in, bytes out', () => {
  test('1,000 entries of random binary values round-trip exactly', () => {
    const cache = open({ maxEntries: 2000, maxValueBytes: 1 << 20 });
    const out = new Float64Array(3);
    const expected = new Map();
    for (let i = 0; i < 1000; i++) {
      const key = `k${i}:ключ:🔑:${i % 7}`;
      const value = new Uint8Array(randomBytes((i * 37) % 4096));
      if (value.length > 1) value[0] = 0;  // NUL and 0xff bytes inside values
      if (value.length > 2) value[1] = 0xff;
      expected.set(key, value);
      cache.set(key, value, NaN, NaN, [`g${i % 10}`], T0);
    }
    assert.equal(cache.entries(), 1000);
    // Compared only once all are read: small copies share pooled buffers, and one read must
    // never overwrite the bytes an earlier one returned.
    const got = new Map();
    for (const key of expected.keys()) got.set(key, cache.get(key, T0, out));
    let total = 0;
    for (const [key, value] of expected) {
      assert.ok(got.get(key) instanceof Uint8Array, key);
      assert.deepEqual(got.get(key), value, key);
      total += value.length;
    }
    assert.ok(cache.bytes() > total, 'charged bytes include the values');
    assert.equal(cache.invalidateTag('g3'), 100);
    assert.equal(cache.entries(), 900);
    cache.close();
  });

  test('returned values are copies, not views into wasm memory', () => {
    const cache = open();
    const out = new Float64Array(3);
    cache.set('k', bytes(1, 2), NaN, NaN, null, T0);
    const first = cache.get('k', T0, out);
    first[0] = 99;
    cache.set('other', bytes(5, 5), NaN, NaN, null, T0);  // reuses the module's buffers
    cache.get('other', T0, out);
    assert.deepEqual(cache.get('k', T0, out), bytes(1, 2));
    assert.deepEqual(first, bytes(99, 2));
    cache.close();
  });

  test('a value larger than the scratch buffer and the initial memory (memory grows)', () => {
    const cache = open({ maxEntries: 10, maxValueBytes: 64 << 20 });
    const out = new Float64Array(3);
    cache.set('small', bytes(1), NaN, NaN, null, T0);
    const big = new Uint8Array(randomBytes(40 << 20));
    const tag = 'é'.repeat(500);  // 1000 UTF-8 bytes, within the core's tag limit
    cache.set('big', big, NaN, NaN, [tag], T0);
    assert.deepEqual(cache.get('big', T0, out), big);
    assert.deepEqual(cache.get('small', T0, out), bytes(1));  // views re-derived after growth
    assert.equal(cache.invalidateTag(tag), 1);
    cache.close();
  });

  test('two caches are independent', () => {
    const a = open();
    const b = open();
    const out = new Float64Array(3);
    a.set('k', bytes(1), NaN, NaN, null, T0);
    b.set('k', bytes(2), NaN, NaN, null, T0);
    assert.deepEqual(a.get('k', T0, out), bytes(1));
    assert.deepEqual(b.get('k', T0, out), bytes(2));
    a.close();
    assert.deepEqual(b.get('k', T0, out), bytes(2));
    b.close();
  });
});
