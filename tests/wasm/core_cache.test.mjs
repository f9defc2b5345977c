// tests/wasm/core_cache.test.mjs: the wasm CoreCache (wasm/core_cache.mjs over
// wasm/exports.cc) against bindings/PROTOCOL.md, under node's built-in runner:
//   node --test tests/wasm/
// It loads the build's copy (build/wasm/wasm/, made by scripts/wasm-build.sh; another folder
// through TICKCACHE_WASM_DIR). Time is a fake `now` passed to each call: nothing sleeps.
// Every error case also checks that the call changed nothing and the cache still works.
// Beyond the byte calls: add (set-if-absent), the object-mode calls (set's and add's out,
// touch with its missed keys, removal notices),
// parseDuration, host options, and that the glue bundles for a browser and runs there.
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

  test('the glue bundles for the browser (esbuild) and the bundle runs in a page-like realm', async () => {
    const esbuild = await import('esbuild');
    const entry = path.join(wasmDir, 'core_cache.mjs');
    const common = { entryPoints: [entry], bundle: true, platform: 'browser', write: false,
                     logLevel: 'silent' };
    // The command PROTOCOL.md names; an unresolvable Node built-in would be an error here.
    const esm = await esbuild.build({ ...common, format: 'esm' });
    assert.deepEqual(esm.errors, []);
    const text = esm.outputFiles[0].text;
    assert.doesNotMatch(text, /require\(\s*["'](node:)?(fs|path|module|crypto)["']\s*\)/,
                        'no Node built-in is left for a page to trip on');
    // The same bundle as a classic script, run where there is no process and no require.
    const iife = await esbuild.build({ ...common, format: 'iife', globalName: 'tickcacheGlue' });
    const page = vm.createContext({ WebAssembly, TextDecoder, TextEncoder, atob, crypto,
                                    performance, setTimeout, clearTimeout, console, Promise });
    page.window = page;
    page.self = page;
    vm.runInContext(iife.outputFiles[0].text, page);
    // Run as page code: its typed arrays are the page realm's, as the glue expects there.
    const report = await vm.runInContext(`(async () => {
      const loaded = await tickcacheGlue.loadTickcacheWasm();
      const cache = loaded.createCoreCache('{"maxEntries": 4}', { trackRemovals: true });
      const out = new Float64Array(3);
      cache.set('k', Uint8Array.of(3, 4), 1000, 0, null, ${T0});
      const value = [...cache.get('k', ${T0}, out)];
      const deleted = cache.delete('k');
      const pending = cache.pendingRemovals();
      const hour = loaded.parseDuration('1h');
      cache.close();
      return JSON.stringify({ value, times: [...out], deleted, pending, hour });
    })()`, page);
    assert.deepEqual(JSON.parse(report),
                     { value: [3, 4], times: [FRESH, 1000, 1000], deleted: true, pending: 1,
                       hour: 3_600_000 });
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
    ['add', (c) => c.add('k', bytes(1), NaN, NaN, null, T0)],
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

// ---- object mode: set's out, touch, removal notices (PROTOCOL.md) ----------------------

const DELETED = 0;
const EVICTED = 1;
const REJECTED = 2;
const EXPIRED = 3;
const INVALIDATED = 4;

function tracked(options = {}) {
  return wasm.createCoreCache(JSON.stringify({ maxEntries: 1000, policy: 'lru', ...options }),
                              { trackRemovals: true });
}

// set with out: [ref, freshUntil, staleUntil, pending] as a plain array.
function setOut(cache, key, ttl, grace, now, tags = null) {
  const out = new Float64Array(4).fill(-1);
  assert.equal(cache.set(key, utf8(key), ttl, grace, tags, now, out), undefined);
  return [...out];
}

// Every pending notice as [[ref, cause], ...], through an out array of `room` elements.
function drainAll(cache, room = 64) {
  const out = new Uint32Array(room);
  const pairs = [];
  for (;;) {
    const count = cache.drainRemovals(out);
    for (let i = 0; i < count; i++) pairs.push([out[2 * i], out[2 * i + 1]]);
    if (count < Math.floor(room / 2)) return pairs;
  }
}

describe('object mode', () => {
  test('set with out: the ref and absolute times that get reads back as remaining times', () => {
    const cache = open({ maxEntries: 100, defaultTtl: '2s', defaultGrace: 100 });
    const lookup = new Float64Array(3);
    const [ref, freshUntil, staleUntil, pending] = setOut(cache, 'k', 1000, 500, T0);
    assert.deepEqual([freshUntil, staleUntil, pending], [T0 + 1000, T0 + 1500, 0]);
    assert.ok(Number.isInteger(ref) && ref >= 0 && ref < 2 ** 30, `a ref: ${ref}`);
    for (const at of [T0, T0 + 250, T0 + 999]) {
      cache.get('k', at, lookup);
      assert.deepEqual([...lookup], [FRESH, freshUntil - at, staleUntil - at]);
    }
    cache.get('k', T0 + 1200, lookup);
    assert.deepEqual([...lookup], [STALE, 0, staleUntil - (T0 + 1200)]);
    const defaults = setOut(cache, 'defaults', NaN, NaN, T0 + 1200);
    assert.deepEqual(defaults.slice(1), [T0 + 3200, T0 + 3300, 0]);
    const forever = setOut(cache, 'forever', Infinity, 0, T0 + 1200);
    assert.deepEqual(forever.slice(1), [Infinity, Infinity, 0]);
    assert.equal(new Set([ref, defaults[0], forever[0]]).size, 3);
    assert.equal(setOut(cache, 'k', 10, 0, T0 + 1200)[0], ref, 'a rewrite keeps its ref');
    cache.set('plain', bytes(1), 100, 0, null, T0 + 1200, undefined);
    assert.deepEqual(cache.get('plain', T0 + 1200, lookup), bytes(1));
    cache.close();
  });

  test('touch moves an entry in LRU order and counts hits, stale hits and misses', () => {
    const cache = tracked({ maxEntries: 3, shards: 1 });
    const refs = {};
    for (const key of ['a', 'b', 'c']) refs[key] = setOut(cache, key, 1000, 1000, T0)[0];
    const before = JSON.parse(cache.statsJson());
    assert.equal(cache.touch(Uint32Array.of(refs.a, refs.c), 1, 0), undefined);  // a only
    assert.equal(setOut(cache, 'd', 1000, 1000, T0)[3], 1, 'set announces the eviction');
    assert.deepEqual(drainAll(cache), [[refs.b, EVICTED]], 'b was the least recent, not a');
    assert.equal(cache.has('a', T0), FRESH);
    assert.equal(cache.has('b', T0), MISS);
    cache.touch(Uint32Array.of(refs.c | 2 ** 30), 1, 0);  // a stale answer
    cache.touch(new Uint32Array(0), 0, 4);
    cache.touch(Uint32Array.of(0xffffffff, 12345), 2, 0);  // refs never given out: ignored
    // Answers kept out of a read buffer: counted, not replayed (so no LRU move).
    cache.touch(new Uint32Array(0), 0, 0, 3, 2);
    cache.touch(new Uint32Array(0), 0, 0, undefined, undefined);
    const after = JSON.parse(cache.statsJson());
    assert.equal(after.hits - before.hits, 1 + 3);
    assert.equal(after.staleHits - before.staleHits, 1 + 2);
    assert.equal(after.misses - before.misses, 4);
    setOut(cache, 'e', 1000, 1000, T0);
    assert.deepEqual(drainAll(cache), [[refs.a, EVICTED]], 'c, touched last, stays');
    cache.close();
  });

  test('removal notices: delete, tag, prefix, expiry, pattern, clear, in order', () => {
    const cache = tracked({ shards: 1 });
    const ref = (key, ttl = 60_000, tags = null) => setOut(cache, key, ttl, 0, T0, tags)[0];
    const del = ref('del');
    const tagged = ref('tagged', 60_000, ['t']);
    const prefixed = ref('ns:one');
    const short = ref('short', 10);
    assert.equal(cache.pendingRemovals(), 0);
    assert.equal(cache.delete('del'), true);
    assert.equal(cache.delete('del'), false);
    assert.equal(cache.invalidateTag('t'), 1);
    assert.equal(cache.invalidatePrefix('ns'), 1);
    assert.equal(cache.pendingRemovals(), 3);
    assert.equal(cache.maintenance(T0 + 100), 1);
    assert.deepEqual(drainAll(cache), [
      [del, DELETED], [tagged, INVALIDATED], [prefixed, INVALIDATED], [short, EXPIRED],
    ]);
    const x = ref('x');
    const y = ref('y');
    const pattern = ref('p:1');
    assert.equal(cache.invalidatePattern('p:*'), 1);
    assert.equal(cache.clear(), 2);
    const cleared = drainAll(cache);
    assert.deepEqual(cleared[0], [pattern, INVALIDATED]);
    const byRef = (l, r) => l[0] - r[0];
    assert.deepEqual(cleared.slice(1).sort(byRef), [[x, INVALIDATED], [y, INVALIDATED]].sort(byRef));
    assert.deepEqual(drainAll(cache), []);
    cache.close();
  });

  test('admission rejections are noticed, each naming a ref a set returned', () => {
    const cache = tracked({ maxEntries: 100, policy: 'w-tinylfu', shards: 1 });
    const out = new Float64Array(3);
    const live = new Map();  // ref -> key, exact because every set is followed by a drain
    let rejected = 0;
    const write = (key) => {
      const [ref, , , pending] = setOut(cache, key, NaN, NaN, T0);
      live.set(ref, key);
      const notices = drainAll(cache);
      assert.equal(notices.length, pending);
      for (const [noticed, cause] of notices) {
        assert.ok(live.has(noticed), `a notice names a live ref: ${noticed}`);
        assert.equal(cache.has(live.get(noticed), T0), MISS);
        live.delete(noticed);
        if (cause === REJECTED) rejected++;
      }
    };
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) {
        if (cache.get(`hot:${i}`, T0, out) === null) write(`hot:${i}`);
      }
    }
    for (let i = 0; i < 50; i++) write(`once:${i}`);
    assert.ok(rejected > 0, 'some one-off keys were rejected');
    assert.equal(rejected, JSON.parse(cache.statsJson()).rejections);
    assert.equal(live.size, cache.entries());
    cache.close();
  });

  test('a small out array drains part of the queue; the next call returns the rest', () => {
    const cache = tracked();
    const refs = [];
    for (let i = 0; i < 5; i++) refs.push(setOut(cache, `k${i}`, NaN, NaN, T0)[0]);
    for (let i = 0; i < 5; i++) cache.delete(`k${i}`);
    assert.equal(cache.pendingRemovals(), 5);
    const out = new Uint32Array(5).fill(7);
    assert.equal(cache.drainRemovals(out), 2);
    assert.deepEqual([...out], [refs[0], DELETED, refs[1], DELETED, 7]);
    assert.equal(cache.drainRemovals(new Uint32Array(1)), 0);
    assert.equal(cache.drainRemovals(out), 2);
    assert.deepEqual([...out.subarray(0, 4)], [refs[2], DELETED, refs[3], DELETED]);
    const last = new Uint32Array(64);
    assert.equal(cache.drainRemovals(last), 1);
    assert.deepEqual([...last.subarray(0, 2)], [refs[4], DELETED]);
    assert.equal(cache.pendingRemovals(), 0);
    cache.close();
  });

  test('without trackRemovals nothing is queued', () => {
    for (const host of [undefined, {}, { trackRemovals: false }, { trackRemovals: undefined }]) {
      const cache = wasm.createCoreCache('{"maxEntries": 2, "shards": 1, "policy": "lru"}', host);
      setOut(cache, 'a', NaN, NaN, T0);
      setOut(cache, 'b', NaN, NaN, T0);
      assert.equal(setOut(cache, 'c', NaN, NaN, T0)[3], 0);
      cache.delete('c');
      assert.equal(cache.pendingRemovals(), 0);
      assert.equal(cache.drainRemovals(new Uint32Array(8)), 0);
      assert.equal(cache.entries(), 1);
      cache.close();
    }
  });

  // Two W-TinyLFU caches alike (same seed, writes and reads): 100 entries, each read twice.
  function fullTinyLfu() {
    const cache = open({ maxEntries: 100, policy: 'w-tinylfu', shards: 1, hashSeed: 7 });
    const out = new Float64Array(3);
    for (let i = 0; i < 200; i++) cache.set(`held:${i}`, bytes(1), NaN, NaN, null, T0);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 200; i++) {
        if (cache.has(`held:${i}`, T0) !== MISS) cache.get(`held:${i}`, T0, out);
      }
    }
    assert.equal(cache.entries(), 100);
    return cache;
  }

  // Sets `keys`, then 100 new keys so each of them leaves the window and meets admission;
  // returns how many of `keys` stayed.
  function setAndPush(cache, keys) {
    for (const key of keys) cache.set(key, bytes(1), NaN, NaN, null, T0);
    for (let i = 0; i < 100; i++) cache.set(`push:${i}`, bytes(1), NaN, NaN, null, T0);
    return keys.filter((key) => cache.has(key, T0) !== MISS).length;
  }

  test('touch with missed keys: each is a miss, and W-TinyLFU admits keys missed often', () => {
    // Multi-byte and long keys too: had the glue packed other bytes, the sketch would count
    // another hash, and the key would lose admission.
    const wanted = ['wanted:plain', 'wanted:ключ:€📈', `wanted:${'long'.repeat(100)}`];
    const missedKeys = [];
    for (let round = 0; round < 5; round++) missedKeys.push(...wanted);
    missedKeys.push('', 'x'.repeat(2000));  // no entry could have them (maxKeyBytes 1024)
    const reported = fullTinyLfu();
    const counted = fullTinyLfu();
    // Refs in the same call (never given out, so ignored): the keys are packed after them, at
    // an offset of 12 bytes.
    const junkRefs = Uint32Array.of(0xffffffff, 0xfffffffe, 0xfffffffd);
    assert.equal(reported.touch(junkRefs, 3, 0, 0, 0, missedKeys), undefined);
    counted.touch(new Uint32Array(0), 0, missedKeys.length);
    const misses = (cache) => JSON.parse(cache.statsJson()).misses;
    assert.equal(misses(reported), missedKeys.length);
    assert.equal(misses(counted), missedKeys.length);
    assert.equal(setAndPush(reported, wanted), wanted.length, 'the policy heard the keys');
    assert.equal(setAndPush(counted, wanted), 0, 'without the keys they are rejected');
    reported.close();
    counted.close();
  });

  test('touch: missedKeys null, undefined or [] add nothing; keys, refs and counts add up', () => {
    const cache = tracked({ maxEntries: 10, shards: 1 });
    const refs = Uint32Array.of(setOut(cache, 'a', NaN, NaN, T0)[0], setOut(cache, 'b', NaN, NaN, T0)[0]);
    cache.touch(new Uint32Array(0), 0, 1, 0, 0, null);
    cache.touch(new Uint32Array(0), 0, 1, 0, 0, undefined);
    cache.touch(new Uint32Array(0), 0, 1, undefined, undefined, []);
    cache.touch(refs, 2, 2, 1, 0, ['x', 'y', 'x']);
    const stats = JSON.parse(cache.statsJson());
    assert.deepEqual([stats.hits, stats.misses], [2 + 1, 3 + 2 + 3]);
    assert.equal(cache.entries(), 2, 'a missed key is not looked up or written');
    cache.close();
  });

  test('touch with a batch of keys larger than the scratch buffer grows it', () => {
    const cache = open({ maxEntries: 100 });
    const keys = Array.from({ length: 3000 }, (_, i) => `${i}:${'k'.repeat(300)}`);  // ~2.7 MB packed
    cache.touch(new Uint32Array(0), 0, 0, 0, 0, keys);
    assert.equal(JSON.parse(cache.statsJson()).misses, keys.length);
    cache.set('base', bytes(1), NaN, NaN, null, T0);
    assertIntact(cache, 'base', bytes(1), T0);
    cache.close();
  });

  test('touch of many refs and a large drain survive memory growth', () => {
    const cache = tracked({ maxEntries: 50_000, shards: 1 });
    const refs = new Uint32Array(40_000);
    for (let i = 0; i < refs.length; i++) refs[i] = setOut(cache, `k${i}`, NaN, NaN, T0)[0];
    cache.touch(refs, refs.length, 0);
    assert.equal(JSON.parse(cache.statsJson()).hits, refs.length);
    assert.equal(cache.clear(), refs.length);
    const out = new Uint32Array(2 * refs.length + 2);
    assert.equal(cache.drainRemovals(out), refs.length);
    const drained = new Set();
    for (let i = 0; i < refs.length; i++) {
      assert.equal(out[2 * i + 1], INVALIDATED);
      drained.add(out[2 * i]);
    }
    assert.deepEqual(drained, new Set(refs));
    cache.close();
  });
});

describe('parseDuration', () => {
  test('the core\'s durations in ms, "never" is Infinity, bad text invalid_ttl', () => {
    const UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
    const good = [['0', 0], ['1500', 1500], ['never', Infinity],
                  ['2147483647s', 2147483647 * 1000]];
    for (const [suffix, ms] of Object.entries(UNIT)) {
      good.push([`7${suffix}`, 7 * ms], [`0${suffix}`, 0]);
    }
    for (const [text, ms] of good) {
      assert.equal(wasm.parseDuration(text), ms, text);
      assert.equal(glue.parseDuration(text), ms, `module-level ${text}`);
    }
    const bad = ['', 'ms', '5 m', ' 5s', '5s ', '-5s', '1.5s', '5y', '5S', 'Never', 'infinity',
                 '2147483648s', '99999999999999999999', '5m30s'];
    for (const text of bad) {
      const error = throwsCode(() => wasm.parseDuration(text), 'invalid_ttl');
      assert.ok(error.message.includes(`"${text}"`), `the message names the text: ${error.message}`);
    }
    for (const notText of [5, null, undefined, {}, ['5m']]) {
      throwsCode(() => wasm.parseDuration(notText), 'invalid_argument');
    }
  });
});

describe('host options and object-mode arguments of the wrong type', () => {
  test('host options: invalid_argument for wrong types, unsupported for a name', () => {
    const json = '{"maxEntries": 10}';
    const bad = ['track', null, 1, [], { trackRemovals: 'yes' }, { trackRemovals: 1 }, { name: 5 },
                 { name: null }, { name: '' }, { trackRemoval: true },
                 { name: 'n', trackRemovals: true }];
    for (const host of bad) throwsCode(() => wasm.createCoreCache(json, host), 'invalid_argument');
    const error = throwsCode(() => wasm.createCoreCache(json, { name: 'shared' }), 'unsupported');
    assert.match(error.message, /"shared"/);
    throwsCode(() => glue.createCoreCache(json, { name: 'shared', trackRemovals: false }),
               'unsupported');
    const cache = wasm.createCoreCache(json, { trackRemovals: true });
    assert.equal(cache.entries(), 0, 'a cache made after the refusals works');
    cache.close();
  });

  test('set(out), touch, drainRemovals: invalid_argument, nothing changed', () => {
    const cache = tracked({ maxEntries: 3, shards: 1 });
    const keep = setOut(cache, 'keep', 5000, 0, T0);
    setOut(cache, 'other', 5000, 0, T0);
    cache.delete('other');  // one notice waiting
    const LATER = T0 + 3000;  // had a refused call reached the core, its clock would have moved
    const v = bytes(1);
    const cases = [
      ['out a Float64Array(3)', () => cache.set('n', v, NaN, NaN, null, LATER, new Float64Array(3))],
      ['out a Uint32Array(4)', () => cache.set('n', v, NaN, NaN, null, LATER, new Uint32Array(4))],
      ['out an array', () => cache.set('n', v, NaN, NaN, null, LATER, [0, 0, 0, 0])],
      ['out null', () => cache.set('n', v, NaN, NaN, null, LATER, null)],
      ['refs an array', () => cache.touch([keep[0]], 1, 0)],
      ['refs an Int32Array', () => cache.touch(Int32Array.of(keep[0]), 1, 0)],
      ['refs missing', () => cache.touch(undefined, 0, 0)],
      ['count past refs', () => cache.touch(Uint32Array.of(keep[0]), 2, 0)],
      ['negative count', () => cache.touch(Uint32Array.of(keep[0]), -1, 0)],
      ['fractional count', () => cache.touch(Uint32Array.of(keep[0]), 0.5, 0)],
      ['NaN count', () => cache.touch(Uint32Array.of(keep[0]), NaN, 0)],
      ['string count', () => cache.touch(Uint32Array.of(keep[0]), '1', 0)],
      ['negative misses', () => cache.touch(Uint32Array.of(keep[0]), 1, -1)],
      ['fractional misses', () => cache.touch(Uint32Array.of(keep[0]), 1, 1.5)],
      ['Infinity misses', () => cache.touch(Uint32Array.of(keep[0]), 1, Infinity)],
      ['missing misses', () => cache.touch(Uint32Array.of(keep[0]), 1)],
      ['negative hits', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, -1)],
      ['fractional hits', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0.5)],
      ['null hits', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, null)],
      ['string staleHits', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, '2')],
      ['NaN staleHits', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, NaN)],
      ['missedKeys a string', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, 'keep')],
      ['missedKeys a number', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, 1)],
      ['missedKeys array-like',
       () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, { 0: 'a', length: 1 })],
      ['missedKeys a Uint8Array',
       () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, new Uint8Array(2))],
      ['missedKeys with a number', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, ['a', 1])],
      ['missedKeys with null',
       () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, ['a', 'b', null])],
      // eslint-disable-next-line no-sparse-arrays
      ['missedKeys with a hole', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, ['a', , 'b'])],
      ['bad misses and bad missedKeys', () => cache.touch(Uint32Array.of(keep[0]), 1, -1, 0, 0, [5])],
      ['drain into an array', () => cache.drainRemovals([0, 0])],
      ['drain into a Float64Array', () => cache.drainRemovals(new Float64Array(2))],
      ['drain into nothing', () => cache.drainRemovals()],
    ];
    const stats = () => {
      const s = JSON.parse(cache.statsJson());
      return [s.hits, s.staleHits, s.misses, s.sets];
    };
    for (const [name, call] of cases) {
      const before = [cache.entries(), cache.bytes(), cache.pendingRemovals(), ...stats()];
      const error = throwsCode(call, 'invalid_argument');
      if (name.startsWith('missedKeys')) {
        assert.match(error.message, /^missedKeys(\[\d\])? must be (an array of strings, null or undefined|a string), got \w+$/, name);
      }
      assert.deepEqual([cache.entries(), cache.bytes(), cache.pendingRemovals(), ...stats()],
                       before, name);
      const out = new Float64Array(3);
      assert.deepEqual(cache.peek('keep', T0, out), utf8('keep'), `${name}: keep intact`);
      assert.deepEqual([...out], [FRESH, 5000, 5000], `${name}: the clock did not move`);
    }
    cache.touch(Uint32Array.of(keep[0]), 1, 2);
    const [hits, , misses] = stats();
    assert.deepEqual([hits, misses], [1, 2]);
    assert.equal(drainAll(cache).length, 1);
    assert.equal(setOut(cache, 'new', 10, 0, T0)[1], T0 + 10);
    cache.close();
  });

  test('touch, drainRemovals and pendingRemovals after close throw closed', () => {
    const cache = tracked();
    cache.close();
    throwsCode(() => cache.touch(new Uint32Array(1), 1, 0), 'closed');
    throwsCode(() => cache.drainRemovals(new Uint32Array(2)), 'closed');
    throwsCode(() => cache.pendingRemovals(), 'closed');
    throwsCode(() => cache.set('k', bytes(1), NaN, NaN, null, T0, new Float64Array(4)), 'closed');
  });
});

describe('add', () => {
  // [state, fresh, stale, value as text or null] of a peek at `now`.
  function peekAt(cache, key, now) {
    const out = new Float64Array(3);
    const value = cache.peek(key, now, out);
    return [out[0], out[1], out[2], value === null ? null : new TextDecoder().decode(value)];
  }

  test('writes only when no live entry holds the key: fresh and stale keep it, expired does not', () => {
    const cache = open({ maxEntries: 100, defaultTtl: '2s', defaultGrace: 100 });
    const sets = () => JSON.parse(cache.statsJson()).sets;
    assert.equal(cache.add('lock', utf8('first'), 1000, 500, null, T0), true);
    assert.deepEqual(peekAt(cache, 'lock', T0), [FRESH, 1000, 1500, 'first']);
    assert.equal(sets(), 1, 'a written add counts as a set');
    for (const at of [T0, T0 + 999, T0 + 1000, T0 + 1499]) {
      assert.equal(cache.add('lock', utf8('later'), 60_000, 0, ['t'], at), false, `at +${at - T0}`);
      assert.deepEqual(peekAt(cache, 'lock', at), at < T0 + 1000
        ? [FRESH, T0 + 1000 - at, T0 + 1500 - at, 'first']
        : [STALE, 0, T0 + 1500 - at, 'first'], `at +${at - T0}`);
    }
    assert.equal(sets(), 1, 'a refused add is not a set');
    assert.equal(cache.invalidateTag('t'), 0, 'a refused add brought no tags');
    assert.equal(cache.add('lock', utf8('second'), 1000, 0, null, T0 + 1500), true);
    assert.deepEqual(peekAt(cache, 'lock', T0 + 1500), [FRESH, 1000, 1000, 'second']);
    assert.equal(sets(), 2);
    assert.equal(cache.add('defaults', utf8('d'), NaN, NaN, null, T0 + 1500), true);
    assert.deepEqual(peekAt(cache, 'defaults', T0 + 1500), [FRESH, 2000, 2100, 'd']);
    assert.equal(cache.delete('lock'), true);
    assert.equal(cache.add('lock', utf8('third'), Infinity, 0, null, T0 + 1600), true);
    assert.deepEqual(peekAt(cache, 'lock', T0 + 1600), [FRESH, Infinity, Infinity, 'third']);
    cache.close();
  });

  test('with out: filled as set fills it when it writes, untouched when it does not', () => {
    const cache = tracked({ maxEntries: 2, shards: 1 });
    const out = new Float64Array(4).fill(-1);
    assert.equal(cache.add('a', utf8('a'), 1000, 500, null, T0, out), true);
    const [ref, freshUntil, staleUntil, pending] = out;
    assert.deepEqual([freshUntil, staleUntil, pending], [T0 + 1000, T0 + 1500, 0]);
    assert.ok(Number.isInteger(ref) && ref >= 0 && ref < 2 ** 30, `a ref: ${ref}`);
    assert.equal(setOut(cache, 'a', 1000, 500, T0)[0], ref, 'set of the key finds the ref add gave');
    out.fill(-1);
    assert.equal(cache.add('a', utf8('again'), 10, 0, null, T0 + 10, out), false);
    assert.deepEqual([...out], [-1, -1, -1, -1], 'a refused add writes nothing into out');
    assert.equal(cache.add('a', utf8('u'), 10, 0, null, T0 + 10, undefined), false);
    assert.equal(cache.add('b', utf8('b'), 1000, 0, null, T0 + 10, out), true);
    assert.equal(cache.add('c', utf8('c'), 1000, 0, null, T0 + 10, out), true);
    assert.equal(out[3], 1, 'one notice waits');
    assert.deepEqual(drainAll(cache), [[ref, 1]], 'the oldest entry (a) was evicted');
    cache.close();
  });

  test('refuses what set refuses, with the same code, whether or not the key is held', () => {
    const cache = open({ maxEntries: 100, maxKeyBytes: 64, maxValueBytes: 256 });
    cache.set('held', utf8('kept'), 5000, 0, null, T0);
    const v = bytes(1);
    const LATER = T0 + 3000;
    const cases = [
      ['number key', () => cache.add(42, v, NaN, NaN, null, LATER), 'invalid_argument'],
      ['empty key', () => cache.add('', v, NaN, NaN, null, T0), 'empty_key'],
      ['oversized key', () => cache.add('k'.repeat(65), v, NaN, NaN, null, T0), 'key_too_large'],
      ['oversized value', (k) => cache.add(k, new Uint8Array(257), NaN, NaN, null, T0), 'value_too_large'],
      ['string value', (k) => cache.add(k, 'text', NaN, NaN, null, LATER), 'invalid_argument'],
      ['negative ttl', (k) => cache.add(k, v, -1, NaN, null, T0), 'invalid_ttl'],
      ['negative grace', (k) => cache.add(k, v, 1000, -5, null, T0), 'invalid_ttl'],
      ['string ttl', (k) => cache.add(k, v, '5m', NaN, null, LATER), 'invalid_argument'],
      ['non-string tag', (k) => cache.add(k, v, NaN, NaN, ['red', 7], LATER), 'invalid_argument'],
      ['NaN now', (k) => cache.add(k, v, NaN, NaN, null, NaN), 'invalid_argument'],
      ['short out', (k) => cache.add(k, v, NaN, NaN, null, LATER, new Float64Array(3)), 'invalid_argument'],
    ];
    for (const key of ['absent', 'held']) {
      for (const [name, call, code] of cases) {
        const before = [cache.entries(), cache.bytes(), cache.statsJson()];
        throwsCode(() => call(key), code);
        assert.deepEqual([cache.entries(), cache.bytes(), cache.statsJson()], before, `${name} (${key})`);
        assert.deepEqual(peekAt(cache, 'held', T0), [FRESH, 5000, 5000, 'kept'], `${name}: held intact`);
      }
    }
    assert.equal(cache.add('absent', v, NaN, NaN, null, T0), true, 'the cache still works');
    cache.close();
  });
});
