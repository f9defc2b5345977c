// tests/native/core_cache.test.cjs: smoke test of the native addon's CoreCache against
// bindings/PROTOCOL.md, run by node's own test runner (`node --test tests/native/`).
//
// It checks the marshalling, not the cache: every call once, the numbers that cross the
// boundary (states, remaining times, Infinity, counts), every error `code` the host produces,
// that a failed call changes nothing, and that the addon loads in a worker_thread. Time is a
// fake `now` passed to each call; nothing sleeps. Cache behaviour itself is the GoogleTest
// suite's job (tests/core).
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const test = require('node:test');
const { Worker } = require('node:worker_threads');

// Where `npm run build:native` (cmake-js --out build/addon --config Release) puts the addon.
const ADDON_PATH = path.join(__dirname, '..', '..', 'build', 'addon', 'Release', 'tickcache.node');
const { CoreCache } = require(ADDON_PATH);

const T0 = 1_700_000_000_000;
const MAX_KEY_BYTES = 64;
const MAX_VALUE_BYTES = 256;

function newCache(extra = {}) {
  return new CoreCache(
    JSON.stringify({
      maxEntries: 1000,
      maxKeyBytes: MAX_KEY_BYTES,
      maxValueBytes: MAX_VALUE_BYTES,
      policy: 'lru',
      ...extra,
    }),
  );
}

const bytes = (text) => Buffer.from(text, 'utf8');

// [state, fresh, stale, value as text or null] of a get at `now`.
function lookup(cache, key, now, call = 'get') {
  const out = new Float64Array(3);
  const value = cache[call](key, now, out);
  return [out[0], out[1], out[2], value === null ? null : Buffer.from(value).toString('utf8')];
}

function assertCode(fn, code, label = '') {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof Error, `${label} throws an Error`);
    assert.equal(error.code, code, `${label} code of: ${error.message}`);
    assert.equal(typeof error.message, 'string');
    return true;
  });
}

test('get answers fresh, then stale within grace, then miss, with remaining times', () => {
  const cache = newCache();
  assert.equal(cache.set('k', bytes('v1'), 1000, 500, null, T0), undefined);
  assert.deepEqual(lookup(cache, 'k', T0), [1, 1000, 1500, 'v1']);
  assert.deepEqual(lookup(cache, 'k', T0 + 400), [1, 600, 1100, 'v1']);
  assert.deepEqual(lookup(cache, 'k', T0 + 1200), [2, 0, 300, 'v1']);
  assert.deepEqual(lookup(cache, 'k', T0 + 1600), [0, 0, 0, null]);
  const stats = JSON.parse(cache.statsJson());
  assert.equal(stats.hits, 2);
  assert.equal(stats.staleHits, 1);
  assert.equal(stats.misses, 1);
  assert.equal(stats.sets, 1);
});

test('a value comes back as a Buffer copy: changing it changes nothing stored', () => {
  const cache = newCache();
  const input = new Uint8Array([0, 1, 2, 255]);
  cache.set('bin', input, NaN, NaN, null, T0);
  input[0] = 9;
  const out = new Float64Array(3);
  const first = cache.get('bin', T0, out);
  assert.ok(Buffer.isBuffer(first));
  assert.deepEqual([...first], [0, 1, 2, 255]);
  first[1] = 7;
  assert.deepEqual([...cache.get('bin', T0, out)], [0, 1, 2, 255]);
  cache.set('empty', new Uint8Array(0), NaN, NaN, null, T0);
  assert.deepEqual(lookup(cache, 'empty', T0), [1, Infinity, Infinity, '']);
});

test('NaN TTL takes the defaults; Infinity never expires; defaults come from the options', () => {
  const cache = newCache({ defaultTtl: '2s', defaultGrace: 100 });
  cache.set('default', bytes('d'), NaN, NaN, null, T0);
  assert.deepEqual(lookup(cache, 'default', T0), [1, 2000, 2100, 'd']);
  cache.set('forever', bytes('f'), Infinity, 0, null, T0);
  assert.deepEqual(lookup(cache, 'forever', T0 + 1e12), [1, Infinity, Infinity, 'f']);
  cache.set('fraction', bytes('x'), 0.25, 0, null, T0 + 1e12);
  assert.equal(lookup(cache, 'fraction', T0 + 1e12)[1], 1, 'a positive fraction rounds up');
});

test('peek and has read without touching the stats', () => {
  const cache = newCache();
  cache.set('k', bytes('v'), 1000, 1000, null, T0);
  const before = JSON.parse(cache.statsJson());
  assert.deepEqual(lookup(cache, 'k', T0 + 1500, 'peek'), [2, 0, 500, 'v']);
  assert.deepEqual(lookup(cache, 'missing', T0, 'peek'), [0, 0, 0, null]);
  assert.equal(cache.has('k', T0 + 1500), 2);
  assert.equal(cache.has('missing', T0 + 1500), 0);
  const after = JSON.parse(cache.statsJson());
  assert.equal(after.hits + after.staleHits + after.misses, before.hits + before.staleHits + before.misses);
  assert.equal(cache.has('k', T0 + 1500), 2);
  cache.set('fresh', bytes('v'), 1000, 0, null, T0 + 1500);
  assert.equal(cache.has('fresh', T0 + 1500), 1);
});

test('delete, invalidation by tag, prefix and pattern, clear: each returns what it removed', () => {
  const cache = newCache();
  cache.set('user:1', bytes('a'), NaN, NaN, ['red', 'blue'], T0);
  cache.set('user:2', bytes('b'), NaN, NaN, ['red'], T0);
  cache.set('order:1', bytes('c'), NaN, NaN, [], T0);
  cache.set('order:2', bytes('d'), NaN, NaN, undefined, T0);
  cache.set('misc', bytes('e'), NaN, NaN, null, T0);
  assert.equal(cache.entries(), 5);
  assert.equal(cache.delete('misc'), true);
  assert.equal(cache.delete('misc'), false);
  assert.equal(cache.invalidateTag('blue'), 1);
  assert.equal(cache.has('user:1', T0), 0);
  assert.equal(cache.invalidateTag('red'), 1);
  assert.equal(cache.invalidateTag('red'), 0);
  cache.set('user:3', bytes('f'), NaN, NaN, null, T0);
  assert.equal(cache.invalidatePrefix('user'), 1);
  assert.equal(cache.invalidatePattern('order:?'), 2);
  assert.equal(cache.entries(), 0);
  cache.set('a', bytes('1'), NaN, NaN, null, T0);
  cache.set('b', bytes('2'), NaN, NaN, null, T0);
  assert.equal(cache.clear(), 2);
  assert.equal(cache.entries(), 0);
  assert.equal(cache.bytes(), 0);
});

test('maintenance removes entries whose grace ran out; entries and bytes count them', () => {
  const cache = newCache();
  cache.set('long', bytes('67890'), 100_000, 0, null, T0);
  const longOnly = cache.bytes();
  assert.ok(longOnly > 'long'.length + 5, `an entry costs more than key + value: ${longOnly}`);
  cache.set('short', bytes('12345'), 10, 5, null, T0);
  assert.equal(cache.entries(), 2);
  assert.ok(cache.bytes() > longOnly);
  assert.equal(cache.maintenance(T0 + 14), 0);
  assert.equal(cache.maintenance(T0 + 16), 1);
  assert.equal(cache.entries(), 1);
  assert.equal(cache.bytes(), longOnly);
  assert.equal(JSON.parse(cache.statsJson()).expirations, 1);
});

test('keys cross as exact UTF-8 on both sides of the inline buffer', () => {
  const cache = newCache({ maxKeyBytes: 4096 });
  // Lengths around the 256-byte inline buffer, ending in 1- to 4-byte characters, and keys
  // that differ only in their last character: a truncated read would merge them.
  const keys = [];
  for (let length = 240; length <= 270; length += 1) {
    for (const last of ['a', 'b', 'é', 'è', '€', '₤', '😀', '😁']) {
      keys.push('k'.repeat(length) + last);
    }
  }
  keys.push('x'.repeat(3000) + '1', 'x'.repeat(3000) + '2', 'nul\0inside', 'nul\0other');
  keys.forEach((key, i) => cache.set(key, bytes(String(i)), NaN, NaN, [key], T0));
  assert.equal(cache.entries(), keys.length);
  keys.forEach((key, i) => {
    assert.equal(lookup(cache, key, T0)[3], String(i));
  });
  assert.equal(cache.invalidateTag(keys[1]), 1, 'tags cross the same way');
});

test('bad input throws the documented code and leaves the cache as it was', () => {
  const cache = newCache();
  cache.set('keep', bytes('kept'), 5000, 0, ['keepers'], T0);
  const value = bytes('v');
  const out = new Float64Array(3);
  // Calls the host refuses (invalid_argument) carry a later `now`: had one reached the core,
  // its clock would have moved on and 'keep' would read as older below. Calls the core refuses
  // carry T0: the time they give is real, and the core may read it before it validates.
  const LATER = T0 + 3000;
  const cases = [
    ['number key', () => cache.set(42, value, NaN, NaN, null, LATER), 'invalid_argument'],
    ['undefined key', () => cache.get(undefined, LATER, out), 'invalid_argument'],
    ['object key', () => cache.has({}, LATER), 'invalid_argument'],
    ['symbol key', () => cache.delete(Symbol('k')), 'invalid_argument'],
    ['empty key', () => cache.set('', value, NaN, NaN, null, T0), 'empty_key'],
    ['empty key on get', () => cache.get('', T0, out), null],
    ['oversized key', () => cache.set('k'.repeat(MAX_KEY_BYTES + 1), value, NaN, NaN, null, T0), 'key_too_large'],
    ['oversized multi-byte key', () => cache.set('é'.repeat(MAX_KEY_BYTES), value, NaN, NaN, null, T0), 'key_too_large'],
    ['oversized value', () => cache.set('big', new Uint8Array(MAX_VALUE_BYTES + 1), NaN, NaN, null, T0), 'value_too_large'],
    ['string value', () => cache.set('s', 'text', NaN, NaN, null, LATER), 'invalid_argument'],
    ['Float64Array value', () => cache.set('s', new Float64Array(1), NaN, NaN, null, LATER), 'invalid_argument'],
    ['negative ttl', () => cache.set('neg', value, -1, NaN, null, T0), 'invalid_ttl'],
    ['negative grace', () => cache.set('neg', value, 1000, -5, null, T0), 'invalid_ttl'],
    ['-Infinity ttl', () => cache.set('neg', value, -Infinity, NaN, null, T0), 'invalid_ttl'],
    ['ttl past the maximum', () => cache.set('neg', value, 1e300, NaN, null, T0), 'invalid_ttl'],
    ['string ttl', () => cache.set('neg', value, '5m', NaN, null, LATER), 'invalid_argument'],
    ['tags not an array', () => cache.set('t', value, NaN, NaN, 'red', LATER), 'invalid_argument'],
    ['non-string tag', () => cache.set('t', value, NaN, NaN, ['red', 7], LATER), 'invalid_argument'],
    ['NaN now', () => cache.set('n', value, NaN, NaN, null, NaN), 'invalid_argument'],
    ['string now', () => cache.has('keep', 'now'), 'invalid_argument'],
    ['missing out', () => cache.get('keep', LATER), 'invalid_argument'],
    ['short out', () => cache.peek('keep', LATER, new Float64Array(2)), 'invalid_argument'],
    ['dangling escape', () => cache.invalidatePattern('keep\\'), 'invalid_pattern'],
    ['non-string tag to invalidate', () => cache.invalidateTag(null), 'invalid_argument'],
  ];
  for (const [name, call, code] of cases) {
    const entries = cache.entries();
    const charged = cache.bytes();
    if (code === null) {
      assert.doesNotThrow(call, name);
    } else {
      assertCode(call, code, name);
    }
    assert.equal(cache.entries(), entries, `${name}: entries unchanged`);
    assert.equal(cache.bytes(), charged, `${name}: bytes unchanged`);
    // The failed call did not move the clock either: 'keep' is as fresh as before.
    assert.deepEqual(lookup(cache, 'keep', T0), [1, 5000, 5000, 'kept'], `${name}: keep intact`);
    cache.set('after', bytes(name), NaN, NaN, null, T0);
    assert.equal(lookup(cache, 'after', T0)[3], name, `${name}: the cache still works`);
  }
  assert.equal(cache.invalidateTag('keepers'), 1, 'the tag index survived every failure');
});

test('bad options throw with the core code naming the field', () => {
  assertCode(() => new CoreCache('{'), 'bad_config');
  assertCode(() => new CoreCache(JSON.stringify({ maxEntries: 10, colour: 'red' })), 'bad_config');
  assertCode(() => new CoreCache(JSON.stringify({ maxEntries: 'ten' })), 'bad_config');
  assertCode(() => new CoreCache(JSON.stringify({ maxEntries: 10, defaultTtl: '5 parsecs' })), 'bad_config');
  assertCode(() => new CoreCache('{}'), 'invalid_argument');
  assertCode(() => new CoreCache({ maxEntries: 10 }), 'invalid_argument');
  assertCode(() => new CoreCache(), 'invalid_argument');
  assert.throws(() => CoreCache('{"maxEntries":1}'), TypeError);
  const cache = newCache();
  cache.set('k', bytes('v'), NaN, NaN, null, T0);
  assert.equal(lookup(cache, 'k', T0)[3], 'v', 'a cache made after the failures works');
});

test('every call after close throws code closed, close included', () => {
  const cache = newCache();
  cache.set('k', bytes('v'), NaN, NaN, null, T0);
  assert.equal(cache.close(), undefined);
  const out = new Float64Array(3);
  const calls = {
    get: () => cache.get('k', T0, out),
    peek: () => cache.peek('k', T0, out),
    has: () => cache.has('k', T0),
    set: () => cache.set('k', bytes('v'), NaN, NaN, null, T0),
    delete: () => cache.delete('k'),
    invalidateTag: () => cache.invalidateTag('t'),
    invalidatePrefix: () => cache.invalidatePrefix('p'),
    invalidatePattern: () => cache.invalidatePattern('*'),
    clear: () => cache.clear(),
    maintenance: () => cache.maintenance(T0),
    entries: () => cache.entries(),
    bytes: () => cache.bytes(),
    statsJson: () => cache.statsJson(),
    close: () => cache.close(),
  };
  const protocolCalls = Object.getOwnPropertyNames(CoreCache.prototype).filter((n) => n !== 'constructor');
  assert.deepEqual(Object.keys(calls).sort(), protocolCalls.sort(), 'the test covers every call');
  for (const [name, call] of Object.entries(calls)) {
    assertCode(call, 'closed', name);
  }
  // Closing one cache leaves the others alone.
  const other = newCache();
  other.set('k', bytes('v'), NaN, NaN, null, T0);
  assert.equal(lookup(other, 'k', T0)[3], 'v');
});

test('the addon loads and works in a worker_thread beside the main thread', async () => {
  const mainCache = newCache();
  mainCache.set('main', bytes('m'), NaN, NaN, null, T0);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { CoreCache } = require(workerData.addonPath);
    const cache = new CoreCache(JSON.stringify({ maxEntries: 10 }));
    const out = new Float64Array(3);
    cache.set('w', Buffer.from('from the worker'), 1000, 0, null, workerData.now);
    const value = cache.get('w', workerData.now + 10, out);
    let closedCode = null;
    cache.close();
    try { cache.entries(); } catch (error) { closedCode = error.code; }
    parentPort.postMessage({ value: Buffer.from(value).toString(), times: [...out], closedCode });
  `;
  const result = await new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { addonPath: ADDON_PATH, now: T0 } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
  assert.deepEqual(result, { value: 'from the worker', times: [1, 990, 990], closedCode: 'closed' });
  assert.equal(lookup(mainCache, 'main', T0)[3], 'm', 'the main thread cache is untouched');
});
