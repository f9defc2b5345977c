// tests/js/workers.test.ts: a named cache is one set of entries for every worker_thread of the
// process (issue 3, line 5). Native backend: the main thread and 2 workers write and read one
// cache at once, then each sees every writer's entries. wasm: a named cache is refused with code
// `unsupported` (a wasm instance's memory belongs to one thread).

import { Worker } from 'node:worker_threads';

import { createCache, openCache } from 'tickcache';

import { BACKEND, makeCache } from './support/harness.js';

const WORKERS = 2;
const KEYS_PER_WRITER = 5000;

type Report = { id: number; seen: number[]; wrong: number; seenWhileWriting: number; size: number; backend: string };

function runWorker(name: string, id: number, writers: number, barrier: SharedArrayBuffer): Promise<Report> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./support/registry-worker.mjs', import.meta.url), {
      workerData: { name, id, writers, keysPerWriter: KEYS_PER_WRITER, barrier },
    });
    worker.once('message', (report: Report) => resolve(report));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${id} exited with ${code}`));
    });
  });
}

// Each project registers only the tests of its backend: nothing is skipped.
if (BACKEND === 'native') {
describe('a named cache (native)', () => {
  test('the main thread and 2 workers share one set of entries, writing and reading at once', async () => {
    const name = `workers-${process.pid}-${Date.now()}`;
    const cache = await makeCache<{ writer: number; i: number }>({ name, mode: 'bytes', maxEntries: 100_000 });
    const writers = WORKERS + 1; // the main thread writes as writer WORKERS
    const barrier = new SharedArrayBuffer(4);
    const reports = Array.from({ length: WORKERS }, (_, id) => runWorker(name, id, writers, barrier));
    for (let i = 0; i < KEYS_PER_WRITER; i++) {
      cache.set(`w${WORKERS}:${i}`, { writer: WORKERS, i });
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve)); // let messages flow
    }
    const arrived = new Int32Array(barrier);
    Atomics.add(arrived, 0, 1);
    Atomics.notify(arrived, 0);
    const results = await Promise.all(reports);
    for (const report of results) {
      expect(report.backend).toBe('native');
      expect(report.wrong).toBe(0);
      // Every worker saw every writer's every entry: the workers' and the main thread's.
      expect(report.seen).toEqual(new Array(writers).fill(KEYS_PER_WRITER));
      expect(report.size).toBe(writers * KEYS_PER_WRITER);
    }
    for (let w = 0; w < WORKERS; w++) expect(cache.get(`w${w}:${KEYS_PER_WRITER - 1}`)).toMatchObject({ writer: w, i: KEYS_PER_WRITER - 1 });
    expect(cache.size).toBe(writers * KEYS_PER_WRITER);
    // The workers closed their handles; the cache lives on in the main thread's.
    cache.set('still', { writer: -1, i: -1 });
    expect(cache.has('still')).toBe(true);
  }, 60_000);

  test('a name is taken while its cache lives, and free again after the last close', async () => {
    const name = `names-${process.pid}-${Date.now()}`;
    const first = await createCache({ name, mode: 'bytes', maxEntries: 10 });
    await expect(createCache({ name, mode: 'bytes', maxEntries: 10 })).rejects.toMatchObject({ code: 'name_taken' });
    const second = await openCache(name);
    first.set('k', 'v');
    expect(second.get('k')).toBe('v');
    first.close();
    expect(second.get('k')).toBe('v');
    second.close();
    await expect(openCache(name)).rejects.toMatchObject({ code: 'not_found' });
    const again = await createCache({ name, mode: 'bytes', maxEntries: 10 });
    expect(again.get('k')).toBeUndefined();
    again.close();
  });
});

} else {
describe('a named cache (wasm)', () => {
  test('is refused with code unsupported', async () => {
    await expect(createCache({ name: 'shared', mode: 'bytes', maxEntries: 10 })).rejects.toMatchObject({
      code: 'unsupported',
    });
    await expect(openCache('shared')).rejects.toMatchObject({ code: 'unsupported' });
  });
});
}
