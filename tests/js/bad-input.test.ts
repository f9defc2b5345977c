// tests/js/bad-input.test.ts: bad input never crashes and never corrupts (issue 3, line 6).
// One table of bad calls, each with the `code` it must throw. Every row runs against a cache that
// already holds entries, on this project's backend, in each mode the row applies to; after each
// row the test checks that the earlier entries are intact and that the cache still works.

import { createCache, TickcacheError } from 'tickcache';
import type { Cache, CacheOptions, ErrorCode, ValueMode } from 'tickcache';

import { BACKEND, makeCache } from './support/harness.js';

type Row = {
  what: string;
  code: ErrorCode;
  modes?: ValueMode[];
  call: (cache: Cache<unknown>) => unknown;
};

// Loosely typed on purpose: these are the calls a JavaScript caller (or an `any`) can make.
type Loose = Record<string, (...args: unknown[]) => unknown>;
const loose = (cache: Cache<unknown>): Loose => cache as unknown as Loose;

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic['self'] = cyclic;

const BYTES: ValueMode[] = ['bytes'];
const OPTIONS: CacheOptions = { maxEntries: 1000, maxKeyBytes: 64, maxValueBytes: 4096, maxBytes: 1 << 20 };

const ROWS: Row[] = [
  { what: 'a number key on get', code: 'invalid_key', call: (c) => loose(c)['get']!(42) },
  { what: 'an undefined key on set', code: 'invalid_key', call: (c) => loose(c)['set']!(undefined, 1) },
  { what: 'an object key on set', code: 'invalid_key', call: (c) => loose(c)['set']!({ k: 1 }, 1) },
  { what: 'a symbol key on has', code: 'invalid_key', call: (c) => loose(c)['has']!(Symbol('k')) },
  { what: 'a null key on delete', code: 'invalid_key', call: (c) => loose(c)['delete']!(null) },
  { what: 'an empty key', code: 'empty_key', call: (c) => c.set('', 1) },
  { what: 'a key over maxKeyBytes', code: 'key_too_large', call: (c) => c.set('k'.repeat(65), 1) },
  { what: 'a multi-byte key over maxKeyBytes', code: 'key_too_large', call: (c) => c.set('€'.repeat(22), 1) },
  { what: 'a value over maxValueBytes', code: 'value_too_large', modes: BYTES, call: (c) => c.set('big', 'x'.repeat(5000)) },
  { what: 'undefined as a value', code: 'invalid_value', call: (c) => c.set('k', undefined) },
  { what: 'a NaN ttl', code: 'invalid_ttl', call: (c) => c.set('k', 1, { ttl: NaN }) },
  { what: 'a negative ttl', code: 'invalid_ttl', call: (c) => c.set('k', 1, { ttl: -1 }) },
  { what: 'an Infinity ttl', code: 'invalid_ttl', call: (c) => c.set('k', 1, { ttl: Infinity }) },
  { what: 'an unreadable ttl string', code: 'invalid_ttl', call: (c) => c.set('k', 1, { ttl: 'soon' }) },
  { what: 'a ttl longer than the core allows', code: 'invalid_ttl', call: (c) => c.set('k', 1, { ttl: 1e300 }) },
  { what: 'a NaN grace', code: 'invalid_ttl', call: (c) => c.set('k', 1, { grace: NaN }) },
  { what: 'a grace of "never"', code: 'invalid_ttl', call: (c) => c.set('k', 1, { grace: 'never' }) },
  { what: 'a ttl of the wrong type', code: 'invalid_ttl', call: (c) => loose(c)['set']!('k', 1, { ttl: true }) },
  { what: 'tags that are not an array', code: 'invalid_tags', call: (c) => loose(c)['set']!('k', 1, { tags: 'prices' }) },
  { what: 'a tag that is not a string', code: 'invalid_tags', call: (c) => loose(c)['set']!('k', 1, { tags: ['a', 7] }) },
  { what: 'set options that are not an object', code: 'invalid_argument', call: (c) => loose(c)['set']!('k', 1, '5m') },
  { what: 'a cyclic value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', cyclic) },
  { what: 'a BigInt value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', 10n) },
  { what: 'a function value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', () => 1) },
  { what: 'a function inside a value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', { f: () => 1 }) },
  { what: 'NaN inside a value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', { price: NaN }) },
  { what: 'a symbol value', code: 'invalid_value', modes: BYTES, call: (c) => c.set('k', Symbol('s')) },
  { what: 'a tag of the wrong type to invalidate', code: 'invalid_argument', call: (c) => loose(c)['invalidateTag']!(7) },
  { what: 'a pattern with a dangling escape', code: 'invalid_pattern', call: (c) => c.invalidatePattern('feed:\\') },
  { what: 'getMany without an array', code: 'invalid_argument', call: (c) => loose(c)['getMany']!('a') },
  { what: 'getMany with a bad key inside', code: 'invalid_key', call: (c) => loose(c)['getMany']!(['a', 1]) },
  {
    what: 'setMany with a bad entry last (nothing of the batch is written)',
    code: 'invalid_ttl',
    call: (c) => c.setMany([{ key: 'batch:1', value: 1 }, { key: 'batch:2', value: 2, ttl: -5 }]),
  },
  {
    what: 'setMany with a value bytes mode cannot serialize last',
    code: 'invalid_value',
    modes: BYTES,
    call: (c) => c.setMany([{ key: 'batch:1', value: 1 }, { key: 'batch:2', value: 2n }]),
  },
];

const SENTINELS: Array<[string, unknown]> = [
  ['price:AAPL', { price: 189.5, ts: 1 }],
  ['feed:MSFT', ['a', 'b']],
  ['symbols', 'AAPL,MSFT'],
];

function expectCode(call: () => unknown, code: ErrorCode): void {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TickcacheError);
  expect((thrown as TickcacheError).code).toBe(code);
  expect((thrown as TickcacheError).message.length).toBeGreaterThan(10);
}

test('the table has at least 20 distinct bad inputs', () => {
  expect(new Set(ROWS.map((row) => row.what)).size).toBeGreaterThanOrEqual(20);
});

describe.each<ValueMode>(['object', 'bytes'])('%s mode', (mode) => {
  let cache: Cache<unknown>;
  beforeEach(async () => {
    cache = await makeCache({ ...OPTIONS, mode });
    for (const [key, value] of SENTINELS) cache.set(key, value, { tags: ['sentinel'] });
  });

  const rows = ROWS.filter((row) => row.modes === undefined || row.modes.includes(mode));
  test.each(rows.map((row) => [row.what, row] as const))('%s', (_what, row) => {
    const before = cache.stats();
    expectCode(() => row.call(cache), row.code);
    // Nothing changed: the earlier entries are all there, with their values, and nothing was added.
    expect(cache.size).toBe(SENTINELS.length);
    for (const [key, value] of SENTINELS) expect(cache.peek(key)?.value).toEqual(value);
    expect(cache.has('k')).toBe(false);
    expect(cache.has('batch:1')).toBe(false);
    expect(cache.stats().sets).toBe(before.sets);
    // And it still works.
    cache.set('after', { ok: true }, { ttl: '1m', tags: ['after'] });
    expect(cache.get('after')).toEqual({ ok: true });
    expect(cache.invalidateTag('after')).toBe(1);
    expect(cache.invalidateTag('sentinel')).toBe(SENTINELS.length);
  });
});

describe('options of the wrong type or value are refused with invalid_option', () => {
  const bad: Array<[string, unknown, ErrorCode]> = [
    ['no options', undefined, 'invalid_option'],
    ['null', null, 'invalid_option'],
    ['maxEntries as a string', { maxEntries: '100' }, 'invalid_option'],
    ['a negative maxBytes', { maxBytes: -1 }, 'invalid_option'],
    ['a fractional maxEntries', { maxEntries: 1.5 }, 'invalid_option'],
    ['an unknown mode', { maxEntries: 10, mode: 'json' }, 'invalid_option'],
    ['an unknown policy', { maxEntries: 10, policy: 'fifo' }, 'invalid_option'],
    ['no bound at all', { mode: 'bytes' }, 'invalid_option'],
    ['an unknown option', { maxEntries: 10, maxEntrys: 5 }, 'invalid_option'],
    ['a clock that is not a function', { maxEntries: 10, clock: 5 }, 'invalid_option'],
    ['a serializer without deserialize', { maxEntries: 10, serializer: { serialize: () => new Uint8Array() } }, 'invalid_option'],
    ['a negative defaultTtl', { maxEntries: 10, defaultTtl: -5 }, 'invalid_ttl'],
    ['an unreadable defaultTtl', { maxEntries: 10, defaultTtl: 'later' }, 'invalid_option'],
    ['a config rule with a bad ttl', { maxEntries: 10, config: { rules: [{ match: 'a:*', ttl: 'x' }] } }, 'invalid_option'],
    ['a named cache in object mode', { maxEntries: 10, name: 'shared' }, 'invalid_option'],
    ['an unknown backend', { maxEntries: 10, backend: 'gpu' }, 'invalid_option'],
  ];
  test.each(bad)('%s', async (_what, options, code) => {
    await expect(createCache(options as CacheOptions)).rejects.toMatchObject({ code, name: 'TickcacheError' });
  });
});

test('every call after close throws closed; the cache closes once', async () => {
  for (const mode of ['object', 'bytes'] as const) {
    const cache = await createCache({ maxEntries: 10, mode });
    cache.set('a', 1);
    cache.close();
    expectCode(() => cache.get('a'), 'closed');
    expectCode(() => cache.set('a', 1), 'closed');
    expectCode(() => cache.has('a'), 'closed');
    expectCode(() => cache.delete('a'), 'closed');
    expectCode(() => cache.invalidateTag('t'), 'closed');
    expectCode(() => cache.stats(), 'closed');
    expectCode(() => cache.size, 'closed');
    expectCode(() => cache.close(), 'closed');
  }
});

test('a serializer that throws is reported as invalid_value and writes nothing', async () => {
  const cache = await makeCache({
    maxEntries: 10,
    mode: 'bytes',
    serializer: {
      serialize: () => {
        throw new Error('nope');
      },
      deserialize: () => null,
    },
  });
  expectCode(() => cache.set('k', { a: 1 }), 'invalid_value');
  expect(cache.size).toBe(0);
  expect(cache.backend).toBe(BACKEND);
});
