// tests/js/shapes.test.ts: bytes mode stores plain objects without their keys (one key list per
// shape, js/src/serializer.ts). Whatever the shape, a value must come back exactly as JSON would
// have returned it; and objects of one shape must cost less than their JSON.

import { makeCache } from './support/harness.js';

const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

const VALUES: Array<[string, unknown]> = [
  ['a quote', { symbol: 'AAPL', price: 189.5, bid: 189.49, ask: 189.51, volume: 1e6, ts: 1732180000000 }],
  ['the same keys in another order', { ts: 1, volume: 2, ask: 3, bid: 4, price: 5, symbol: 'X' }],
  ['integer-like keys (Object.keys puts them first)', { b: 1, 2: 'two', a: 3, 1: 'one' }],
  ['nested objects and arrays', { quote: { px: 1, sz: [1, 2, { deep: true }] }, list: [], empty: {} }],
  ['a Date inside (toJSON)', { at: new Date(Date.UTC(2026, 10, 21)), n: 1 }],
  ['a null-prototype object', Object.assign(Object.create(null) as object, { x: 1, y: 'y' })],
  ['an object with toJSON of its own', { toJSON: () => ({ replaced: true }), hidden: 1 }],
  ['a class instance', new (class Point { constructor(readonly x = 1, readonly y = 2) {} })()],
  ['an own __proto__ key', JSON.parse('{"__proto__": {"evil": 1}, "ok": 2}') as unknown],
  ['keys with a NUL', { 'a\u0000b': 1, a: 2 }],
  ['unicode keys and values', { 'ключ': 'значение', '鍵': '値', emoji: '📈' }],
  ['a single key', { only: 'one' }],
  ['null and booleans', { n: null, t: true, f: false }],
];

test.each(VALUES)('%s round-trips as JSON would', async (_what, value) => {
  const cache = await makeCache({ maxEntries: 100, mode: 'bytes' });
  cache.set('k', value);
  const back = cache.get('k');
  expect(back).toEqual(viaJson(value));
  expect(JSON.stringify(back)).toBe(JSON.stringify(viaJson(value)));
  // Twice: the second write finds the shape registered by the first.
  cache.set('k2', value);
  expect(JSON.stringify(cache.get('k2'))).toBe(JSON.stringify(viaJson(value)));
  expect(Object.getPrototypeOf(cache.get('k'))).toBe(Object.getPrototypeOf(viaJson(value)));
});

test('many distinct shapes (more than the table keeps) all round-trip', async () => {
  const cache = await makeCache({ maxEntries: 10_000, mode: 'bytes' });
  for (let i = 0; i < 5000; i++) cache.set(`k${i}`, { [`field${i}`]: i, common: 'x' });
  for (let i = 0; i < 5000; i++) expect(cache.get(`k${i}`)).toEqual({ [`field${i}`]: i, common: 'x' });
});

test('objects of one shape are charged less than their JSON', async () => {
  const cache = await makeCache({ maxEntries: 10_000, mode: 'bytes' });
  const quote = (i: number) => ({ symbol: `SYM${i}`, price: i / 100, bid: i / 100 - 0.01, ask: i / 100 + 0.01, volume: i, ts: 1732180000000 + i });
  let jsonBytes = 0;
  for (let i = 0; i < 1000; i++) {
    cache.set(`q${i}`, quote(i));
    jsonBytes += Buffer.byteLength(JSON.stringify(quote(i)));
  }
  const other = await makeCache({ maxEntries: 10_000, mode: 'bytes', serializer: { serialize: (v) => new TextEncoder().encode(JSON.stringify(v)), deserialize: (b) => JSON.parse(new TextDecoder().decode(b)) as unknown } });
  for (let i = 0; i < 1000; i++) other.set(`q${i}`, quote(i));
  // The keys' JSON ("symbol":, "price":, ...) is 45 bytes of each quote's JSON.
  expect(other.bytes - cache.bytes).toBeGreaterThanOrEqual(1000 * 40);
  expect(other.bytes - cache.bytes).toBeLessThan(jsonBytes);
  for (let i = 0; i < 1000; i += 97) expect(cache.get(`q${i}`)).toEqual(quote(i));
});
