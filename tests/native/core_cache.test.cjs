// tests/native/core_cache.test.cjs: smoke test of the native addon's CoreCache against
// bindings/PROTOCOL.md, run by node's own test runner (`node --test tests/native/`).
//
// It checks the marshalling, not the cache: every call once, the numbers that cross the
// boundary (states, remaining times, absolute times, refs, Infinity, counts), the object-mode
// calls (set's and add's `out`, touch with its missed keys, removal notices), add's true/false, parseDuration, every error `code` the host
// produces, that a failed call changes nothing, and that the addon loads in a worker_thread.
// Time is a fake `now` passed to each call; nothing sleeps. Cache behaviour itself is the
// GoogleTest suite's job (tests/core); named caches shared by workers are registry.test.cjs's.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const test = require('node:test');
const { Worker } = require('node:worker_threads');

// Where `npm run build:native` (cmake-js --out build/addon --config Release) puts the addon.
const ADDON_PATH = path.join(__dirname, '..', '..', 'build', 'addon', 'Release', 'tickcache.node');
const { CoreCache, parseDuration } = require(ADDON_PATH);

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
    add: () => cache.add('k', bytes('v'), NaN, NaN, null, T0),
    delete: () => cache.delete('k'),
    touch: () => cache.touch(new Uint32Array(1), 1, 0),
    drainRemovals: () => cache.drainRemovals(new Uint32Array(2)),
    pendingRemovals: () => cache.pendingRemovals(),
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

// ---- object mode: set's out, touch, removal notices ------------------------------------

const DELETED = 0;
const EVICTED = 1;
const REJECTED = 2;
const EXPIRED = 3;
const INVALIDATED = 4;

function tracked(extra = {}) {
  return new CoreCache(JSON.stringify({ maxEntries: 1000, policy: 'lru', ...extra }), { trackRemovals: true });
}

// set with out: returns [ref, freshUntil, staleUntil, pending] as a plain array.
function setOut(cache, key, ttl, grace, now, tags = null) {
  const out = new Float64Array(4).fill(-1);
  assert.equal(cache.set(key, bytes(key), ttl, grace, tags, now, out), undefined);
  return [...out];
}

// Every pending notice as [[ref, cause], ...], drained through an out array of `room` elements.
function drainAll(cache, room = 64) {
  const out = new Uint32Array(room);
  const pairs = [];
  for (;;) {
    const count = cache.drainRemovals(out);
    for (let i = 0; i < count; i++) pairs.push([out[2 * i], out[2 * i + 1]]);
    if (count < Math.floor(room / 2)) return pairs;
  }
}

test('set with out reports the ref and the absolute times get reads back as remaining times', () => {
  const cache = newCache({ defaultTtl: '2s', defaultGrace: 100 });
  const [ref, freshUntil, staleUntil, pending] = setOut(cache, 'k', 1000, 500, T0);
  assert.deepEqual([freshUntil, staleUntil, pending], [T0 + 1000, T0 + 1500, 0]);
  assert.ok(Number.isInteger(ref) && ref >= 0 && ref < 2 ** 30, `a ref: ${ref}`);
  for (const at of [T0, T0 + 250, T0 + 999]) {
    const [state, fresh, stale] = lookup(cache, 'k', at);
    assert.deepEqual([state, fresh, stale], [1, freshUntil - at, staleUntil - at], `at +${at - T0}`);
  }
  const [, fresh2, stale2] = lookup(cache, 'k', T0 + 1200);
  assert.deepEqual([fresh2, stale2], [0, staleUntil - (T0 + 1200)]);

  // At +1200 'k' is stale but still held, so its ref is still its own.
  const defaults = setOut(cache, 'defaults', NaN, NaN, T0 + 1200);
  assert.deepEqual(defaults.slice(1), [T0 + 3200, T0 + 3300, 0], 'NaN takes the defaults');
  const forever = setOut(cache, 'forever', Infinity, 0, T0 + 1200);
  assert.deepEqual(forever.slice(1), [Infinity, Infinity, 0]);
  assert.deepEqual(lookup(cache, 'forever', T0 + 6000).slice(0, 3), [1, Infinity, Infinity]);
  assert.equal(new Set([ref, defaults[0], forever[0]]).size, 3, 'live entries have distinct refs');
  assert.equal(setOut(cache, 'k', 10, 0, T0 + 1200)[0], ref, 'a rewrite keeps its ref');

  // Without out (absent or undefined) set behaves as before.
  cache.set('plain', bytes('p'), 100, 0, null, T0 + 5000);
  cache.set('plain2', bytes('q'), 100, 0, null, T0 + 5000, undefined);
  assert.equal(lookup(cache, 'plain2', T0 + 5000)[3], 'q');
});

test('touch moves an entry in LRU order and counts hits, stale hits and misses', () => {
  const cache = tracked({ maxEntries: 3, shards: 1 });
  const refs = {};
  for (const key of ['a', 'b', 'c']) refs[key] = setOut(cache, key, 1000, 1000, T0)[0];
  const before = JSON.parse(cache.statsJson());
  // Only the first `count` refs count: c is listed but not touched.
  assert.equal(cache.touch(Uint32Array.of(refs.a, refs.c), 1, 0), undefined);
  const [, , , pending] = setOut(cache, 'd', 1000, 1000, T0);
  assert.equal(pending, 1, 'the eviction is announced by set');
  assert.deepEqual(drainAll(cache), [[refs.b, EVICTED]], 'b was the least recent, not a');
  assert.equal(cache.has('a', T0), 1);
  assert.equal(cache.has('b', T0), 0);

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
  // c was touched last, so a (touched before d's set) is now the older of a and c.
  setOut(cache, 'e', 1000, 1000, T0);
  assert.deepEqual(drainAll(cache), [[refs.a, EVICTED]]);
});

// Two W-TinyLFU caches alike (same seed, writes and reads): 100 entries, each read twice.
function fullTinyLfu() {
  const cache = new CoreCache(JSON.stringify({ maxEntries: 100, policy: 'w-tinylfu', shards: 1, hashSeed: 7 }));
  const out = new Float64Array(3);
  for (let i = 0; i < 200; i++) cache.set(`held:${i}`, bytes('v'), NaN, NaN, null, T0);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) {
      if (cache.has(`held:${i}`, T0) !== 0) cache.get(`held:${i}`, T0, out);
    }
  }
  assert.equal(cache.entries(), 100);
  return cache;
}

// Sets `keys`, then 100 new keys so each of them leaves the window and meets admission;
// returns how many of `keys` stayed.
function setAndPush(cache, keys) {
  for (const key of keys) cache.set(key, bytes('v'), NaN, NaN, null, T0);
  for (let i = 0; i < 100; i++) cache.set(`push:${i}`, bytes('v'), NaN, NaN, null, T0);
  return keys.filter((key) => cache.has(key, T0) !== 0).length;
}

test('touch with missed keys: each is a miss, and W-TinyLFU admits keys missed often', () => {
  // Multi-byte and long keys too: had the addon sent other bytes, the sketch would count
  // another hash, and the key would lose admission.
  const wanted = ['wanted:plain', 'wanted:ключ:€📈', `wanted:${'long'.repeat(100)}`];
  const missedKeys = [];
  for (let round = 0; round < 5; round++) missedKeys.push(...wanted);
  missedKeys.push('', 'x'.repeat(2000)); // keys no entry could have (maxKeyBytes 1024): misses only
  const reported = fullTinyLfu();
  const counted = fullTinyLfu();
  assert.equal(reported.touch(new Uint32Array(0), 0, 0, 0, 0, missedKeys), undefined);
  counted.touch(new Uint32Array(0), 0, missedKeys.length);
  const misses = (cache) => JSON.parse(cache.statsJson()).misses;
  assert.equal(misses(reported), missedKeys.length);
  assert.equal(misses(counted), missedKeys.length);
  assert.equal(setAndPush(reported, wanted), wanted.length, 'the policy heard the keys');
  assert.equal(setAndPush(counted, wanted), 0, 'without the keys they are rejected');
  reported.close();
  counted.close();
});

test('touch: missedKeys null, undefined or [] add nothing; keys and counted misses add up', () => {
  const cache = newCache();
  cache.touch(new Uint32Array(0), 0, 1, 0, 0, null);
  cache.touch(new Uint32Array(0), 0, 1, 0, 0, undefined);
  cache.touch(new Uint32Array(0), 0, 1, undefined, undefined, []);
  cache.touch(new Uint32Array(0), 0, 2, 0, 0, ['a', 'b', 'a']);
  assert.equal(JSON.parse(cache.statsJson()).misses, 3 + 2 + 3);
  assert.equal(cache.entries(), 0, 'a missed key is not looked up or written');
});

test('removal notices: delete, tag, clear, expiry and rejection, in the order they happened', () => {
  const cache = tracked({ shards: 1 });
  const ref = (key, ttl = 60_000, tags = null) => setOut(cache, key, ttl, 0, T0, tags)[0];
  const del = ref('del');
  const tagged = ref('tagged', 60_000, ['t']);
  const prefixed = ref('ns:one');
  const short = ref('short', 10);
  assert.equal(cache.pendingRemovals(), 0);
  assert.equal(cache.delete('del'), true);
  assert.equal(cache.delete('del'), false, 'a second delete removes nothing, notes nothing');
  assert.equal(cache.invalidateTag('t'), 1);
  assert.equal(cache.invalidatePrefix('ns'), 1);
  assert.equal(cache.pendingRemovals(), 3);
  assert.equal(cache.maintenance(T0 + 100), 1, 'short expired under the fake clock');
  assert.deepEqual(drainAll(cache), [
    [del, DELETED],
    [tagged, INVALIDATED],
    [prefixed, INVALIDATED],
    [short, EXPIRED],
  ]);
  assert.equal(cache.pendingRemovals(), 0);
  const x = ref('x');
  const y = ref('y');
  const pattern = ref('p:1');
  assert.equal(cache.invalidatePattern('p:*'), 1);
  assert.equal(cache.clear(), 2);
  const cleared = drainAll(cache);
  assert.deepEqual(cleared[0], [pattern, INVALIDATED]);
  assert.deepEqual(cleared.slice(1).sort((l, r) => l[0] - r[0]),
                   [[x, INVALIDATED], [y, INVALIDATED]].sort((l, r) => l[0] - r[0]));
  assert.deepEqual(drainAll(cache), [], 'drained notices are gone');
});

test('admission rejections are noticed, each naming the ref its entry\'s set returned', () => {
  const cache = tracked({ maxEntries: 100, policy: 'w-tinylfu', shards: 1 });
  const out = new Float64Array(3);
  const live = new Map();  // ref -> key, kept exact by draining after every set
  let rejected = 0;
  const write = (key) => {
    const [ref, , , pending] = setOut(cache, key, NaN, NaN, T0);
    live.set(ref, key);
    const notices = drainAll(cache);
    assert.equal(notices.length, pending, 'set announces what is waiting');
    for (const [noticed, cause] of notices) {
      assert.ok(live.has(noticed), `a notice names a live ref: ${noticed}`);
      const gone = live.get(noticed);
      live.delete(noticed);
      assert.equal(cache.has(gone, T0), 0, `${gone} is no longer held`);
      if (cause === REJECTED) rejected++;
    }
  };
  // 100 frequent keys; then keys seen once, which lose the admission contest to them.
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 100; i++) {
      if (cache.get(`hot:${i}`, T0, out) === null) write(`hot:${i}`);
    }
  }
  for (let i = 0; i < 50; i++) write(`once:${i}`);
  assert.ok(rejected > 0, 'some one-off keys were rejected');
  assert.equal(rejected, JSON.parse(cache.statsJson()).rejections);
  assert.equal(live.size, cache.entries(), 'every entry that left was noticed');
});

test('a small out array drains part of the queue; the next call returns the rest', () => {
  const cache = tracked();
  const refs = [];
  for (let i = 0; i < 5; i++) refs.push(setOut(cache, `k${i}`, NaN, NaN, T0)[0]);
  for (let i = 0; i < 5; i++) cache.delete(`k${i}`);
  assert.equal(cache.pendingRemovals(), 5);
  const out = new Uint32Array(5).fill(7);  // room for 2 pairs; the odd element stays untouched
  assert.equal(cache.drainRemovals(out), 2);
  assert.deepEqual([...out], [refs[0], DELETED, refs[1], DELETED, 7]);
  assert.equal(cache.pendingRemovals(), 3);
  assert.equal(cache.drainRemovals(new Uint32Array(1)), 0, 'no room for a pair: nothing moves');
  assert.equal(cache.drainRemovals(out), 2);
  assert.deepEqual([...out.subarray(0, 4)], [refs[2], DELETED, refs[3], DELETED]);
  const last = new Uint32Array(64);
  assert.equal(cache.drainRemovals(last), 1);
  assert.deepEqual([...last.subarray(0, 2)], [refs[4], DELETED]);
  assert.equal(cache.drainRemovals(last), 0);
  assert.equal(cache.pendingRemovals(), 0);
});

test('without trackRemovals nothing is queued: drain returns 0 and set reports 0 pending', () => {
  for (const host of [undefined, {}, { trackRemovals: false }, { trackRemovals: undefined }]) {
    const cache = new CoreCache(JSON.stringify({ maxEntries: 2, shards: 1, policy: 'lru' }), host);
    setOut(cache, 'a', NaN, NaN, T0);
    setOut(cache, 'b', NaN, NaN, T0);
    assert.equal(setOut(cache, 'c', NaN, NaN, T0)[3], 0, 'an eviction happened, nothing pending');
    cache.delete('c');
    assert.equal(cache.pendingRemovals(), 0);
    assert.equal(cache.drainRemovals(new Uint32Array(8)), 0);
    assert.equal(cache.entries(), 1);
  }
});

test('parseDuration: the core\'s durations in ms, "never" is Infinity, bad text invalid_ttl', () => {
  const UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  const good = [['0', 0], ['1500', 1500], ['never', Infinity], ['2147483647s', 2147483647 * 1000]];
  for (const [suffix, ms] of Object.entries(UNIT)) good.push([`7${suffix}`, 7 * ms], [`0${suffix}`, 0]);
  for (const [text, ms] of good) assert.equal(parseDuration(text), ms, text);

  const bad = ['', 'ms', '5 m', ' 5s', '5s ', '-5s', '1.5s', '5y', '5S', 'Never', 'infinity', '2147483648s',
               '99999999999999999999', '5m30s'];
  for (const text of bad) {
    assert.throws(() => parseDuration(text), (error) => {
      assert.equal(error.code, 'invalid_ttl', `${JSON.stringify(text)}: ${error.message}`);
      assert.ok(error.message.includes(`"${text}"`), `the message names the text: ${error.message}`);
      return true;
    });
  }
  for (const notText of [5, null, undefined, {}, ['5m'], Symbol('5m')]) {
    assertCode(() => parseDuration(notText), 'invalid_argument', String(notText?.toString?.()));
  }
  assertCode(() => parseDuration(), 'invalid_argument', 'no argument');
});

test('host options of the wrong type or shape throw invalid_argument and create nothing', () => {
  const json = JSON.stringify({ maxEntries: 10 });
  const bad = [
    ['a string', 'track'],
    ['null', null],
    ['a number', 1],
    ['an array', []],
    ['trackRemovals a string', { trackRemovals: 'yes' }],
    ['trackRemovals a number', { trackRemovals: 1 }],
    ['name a number', { name: 5 }],
    ['name null', { name: null }],
    ['name empty', { name: '' }],
    ['an unknown field', { trackRemoval: true }],
    ['name with trackRemovals', { name: 'bad-combination', trackRemovals: true }],
  ];
  for (const [label, host] of bad) assertCode(() => new CoreCache(json, host), 'invalid_argument', label);
  // The refused named cache did not take its name.
  const named = new CoreCache(json, { name: 'bad-combination', trackRemovals: false });
  named.set('k', bytes('v'), NaN, NaN, null, T0);
  assert.equal(lookup(named, 'k', T0)[3], 'v');
  named.close();
});

test('bad arguments to set(out), touch and drainRemovals throw invalid_argument and change nothing', () => {
  const cache = tracked({ maxEntries: 3, shards: 1 });
  const keep = setOut(cache, 'keep', 5000, 0, T0);
  setOut(cache, 'other', 5000, 0, T0);
  cache.delete('other');  // one notice waiting
  const LATER = T0 + 3000;  // had a refused call reached the core, its clock would have moved
  const v = bytes('v');
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
    ['missedKeys array-like', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, { 0: 'a', length: 1 })],
    ['missedKeys a Uint8Array', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, new Uint8Array(2))],
    ['missedKeys with a number', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, ['a', 1])],
    ['missedKeys with null', () => cache.touch(Uint32Array.of(keep[0]), 1, 0, 0, 0, ['a', 'b', null])],
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
    assertCode(call, 'invalid_argument', name);
    if (name.startsWith('missedKeys')) {
      assert.throws(call, /^Error: missedKeys(\[\d\])? must be (an array of strings, null or undefined|a string), got \w+$/, name);
    }
    assert.deepEqual([cache.entries(), cache.bytes(), cache.pendingRemovals(), ...stats()], before, name);
    const out = new Float64Array(3);
    assert.equal(cache.peek('keep', T0, out)?.toString(), 'keep', `${name}: keep intact`);
    assert.deepEqual([...out], [1, 5000, 5000], `${name}: the clock did not move`);
  }
  // Still works: a touch counts, the waiting notice drains, set fills out.
  cache.touch(Uint32Array.of(keep[0]), 1, 2);
  const [hits, , misses] = stats();
  assert.deepEqual([hits, misses], [1, 2]);
  assert.equal(drainAll(cache).length, 1);
  assert.equal(setOut(cache, 'new', 10, 0, T0)[1], T0 + 10);
});

test('add writes only when no live entry holds the key: fresh and stale keep it, expired does not', () => {
  const cache = newCache({ defaultTtl: '2s', defaultGrace: 100 });
  const sets = () => JSON.parse(cache.statsJson()).sets;
  assert.equal(cache.add('lock', bytes('first'), 1000, 500, null, T0), true);
  assert.deepEqual(lookup(cache, 'lock', T0), [1, 1000, 1500, 'first']);
  assert.equal(sets(), 1, 'a written add counts as a set');
  // Fresh, then stale to its last ms: false, and value and times stay the first add's.
  for (const at of [T0, T0 + 999, T0 + 1000, T0 + 1499]) {
    assert.equal(cache.add('lock', bytes('later'), 60_000, 0, ['t'], at), false, `at +${at - T0}`);
    assert.deepEqual(lookup(cache, 'lock', at, 'peek'), at < T0 + 1000
      ? [1, T0 + 1000 - at, T0 + 1500 - at, 'first']
      : [2, 0, T0 + 1500 - at, 'first'], `at +${at - T0}`);
  }
  assert.equal(sets(), 1, 'a refused add is not a set');
  assert.equal(cache.invalidateTag('t'), 0, 'a refused add brought no tags');
  // At its stale time the entry is gone: the add replaces it.
  assert.equal(cache.add('lock', bytes('second'), 1000, 0, null, T0 + 1500), true);
  assert.deepEqual(lookup(cache, 'lock', T0 + 1500, 'peek'), [1, 1000, 1000, 'second']);
  assert.equal(sets(), 2);
  // NaN takes the defaults, as for set; a deleted key is absent again.
  assert.equal(cache.add('defaults', bytes('d'), NaN, NaN, null, T0 + 1500), true);
  assert.deepEqual(lookup(cache, 'defaults', T0 + 1500, 'peek'), [1, 2000, 2100, 'd']);
  assert.equal(cache.delete('lock'), true);
  assert.equal(cache.add('lock', bytes('third'), Infinity, 0, null, T0 + 1600), true);
  assert.deepEqual(lookup(cache, 'lock', T0 + 1600), [1, Infinity, Infinity, 'third']);
});

test('add with out fills it as set does when it writes and leaves it untouched when it does not', () => {
  const cache = tracked({ maxEntries: 2, shards: 1 });
  const out = new Float64Array(4).fill(-1);
  assert.equal(cache.add('a', bytes('a'), 1000, 500, null, T0, out), true);
  const [ref, freshUntil, staleUntil, pending] = out;
  assert.deepEqual([freshUntil, staleUntil, pending], [T0 + 1000, T0 + 1500, 0]);
  assert.ok(Number.isInteger(ref) && ref >= 0 && ref < 2 ** 30, `a ref: ${ref}`);
  assert.equal(setOut(cache, 'a', 1000, 500, T0)[0], ref, 'set of the key finds the ref add gave');
  out.fill(-1);
  assert.equal(cache.add('a', bytes('again'), 10, 0, null, T0 + 10, out), false);
  assert.deepEqual([...out], [-1, -1, -1, -1], 'a refused add writes nothing into out');
  assert.equal(cache.add('a', bytes('u'), 10, 0, null, T0 + 10, undefined), false);
  // A written add that evicts reports the notice, as set does.
  assert.equal(cache.add('b', bytes('b'), 1000, 0, null, T0 + 10, out), true);
  assert.equal(cache.add('c', bytes('c'), 1000, 0, null, T0 + 10, out), true);
  assert.equal(out[3], 1, 'one notice waits');
  assert.deepEqual(drainAll(cache), [[ref, 1]], 'the oldest entry (a) was evicted');
});

test('add refuses what set refuses, with the same code, whether or not the key is held', () => {
  const cache = newCache();
  cache.set('held', bytes('kept'), 5000, 0, null, T0);
  const v = bytes('v');
  const LATER = T0 + 3000;
  const cases = [
    ['number key', (k) => cache.add(42, v, NaN, NaN, null, LATER), 'invalid_argument'],
    ['empty key', () => cache.add('', v, NaN, NaN, null, T0), 'empty_key'],
    ['oversized key', () => cache.add('k'.repeat(MAX_KEY_BYTES + 1), v, NaN, NaN, null, T0), 'key_too_large'],
    ['oversized value', (k) => cache.add(k, new Uint8Array(MAX_VALUE_BYTES + 1), NaN, NaN, null, T0), 'value_too_large'],
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
      assertCode(() => call(key), code, `${name} (${key})`);
      assert.deepEqual([cache.entries(), cache.bytes(), cache.statsJson()], before, `${name} (${key}): unchanged`);
      assert.deepEqual(lookup(cache, 'held', T0, 'peek'), [1, 5000, 5000, 'kept'], `${name}: held intact`);
    }
  }
  assert.equal(cache.add('absent', v, NaN, NaN, null, T0), true, 'the cache still works');
});
