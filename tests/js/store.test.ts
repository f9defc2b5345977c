// tests/js/store.test.ts: a file-backed store (native, bytes mode) keeps entries across a
// restart; wasm has no files and says so with code `unsupported`; object mode is refused.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createCache } from 'tickcache';

import { BACKEND } from './support/harness.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tickcache-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

if (BACKEND === 'native') {
  test('a cache reopened on the same directory starts with the entries it had', async () => {
    const options = { maxEntries: 1000, mode: 'bytes', store: { type: 'file', directory: dir } } as const;
    const first = await createCache(options);
    first.set('price:latest:AAPL', { price: 189.5 }, { ttl: '1h', tags: ['symbol:AAPL'] });
    first.set('history:AAPL', [1, 2, 3], { ttl: '1h' });
    // A plain object of several keys: a memory cache would store it by shape (keys kept in this
    // process only); a file store must not, or a restarted process could not read it back.
    first.set('quote:AAPL', { symbol: 'AAPL', bid: 189.4, ask: 189.6 }, { ttl: '1h' });
    first.close();
    const second = await createCache(options);
    expect(second.get('price:latest:AAPL')).toEqual({ price: 189.5 });
    expect(second.get('history:AAPL')).toEqual([1, 2, 3]);
    expect(second.get('quote:AAPL')).toEqual({ symbol: 'AAPL', bid: 189.4, ask: 189.6 });
    expect(second.invalidateTag('symbol:AAPL')).toBe(1);
    second.close();
  });
} else {
  test('wasm has no file store: code unsupported', async () => {
    await expect(
      createCache({ maxEntries: 10, mode: 'bytes', store: { type: 'file', directory: dir } }),
    ).rejects.toMatchObject({ code: 'unsupported' });
  });
}

test('a file store needs bytes mode; a bad store is named', async () => {
  await expect(createCache({ maxEntries: 10, store: { type: 'file', directory: dir } })).rejects.toMatchObject({
    code: 'invalid_option',
  });
  await expect(
    createCache({ maxEntries: 10, mode: 'bytes', store: { type: 'disk' } as never }),
  ).rejects.toMatchObject({ code: 'invalid_option', message: expect.stringContaining('store.type') });
});
