// tests/service/support/stampede-worker.mjs: one worker_thread of workers-stampede.test.ts. Joins
// the named L1 (created by whichever worker comes first), waits at a barrier so every worker
// starts together, then fires `callers` concurrent getOrSet calls for one key. The loader counts
// its calls in a SharedArrayBuffer all workers see, and takes a while, so the calls overlap.

import { parentPort, workerData } from 'node:worker_threads';

// By path: tests/service/package.json is the nearest package.json, not tickcache's.
import { createTieredCache } from '../../../dist/esm/index.js';

const { name, key, callers, workers, counters, loadMs } = workerData;
const shared = new Int32Array(counters); // [0] loader calls, [1] workers ready

const tiered = await createTieredCache({ l1: { name, mode: 'bytes', maxEntries: 10_000 }, lockTtl: '5s' });
Atomics.add(shared, 1, 1);
while (Atomics.load(shared, 1) < workers) Atomics.wait(shared, 1, Atomics.load(shared, 1), 20);

const loader = async () => {
  Atomics.add(shared, 0, 1);
  await new Promise((resolve) => setTimeout(resolve, loadMs));
  return { symbol: 'AAPL', price: 189.5 };
};
const results = await Promise.all(Array.from({ length: callers }, () => tiered.getOrSet(key, loader, { ttl: '1m' })));
const wrong = results.filter((r) => r?.symbol !== 'AAPL' || r?.price !== 189.5).length;
const stats = tiered.stats();
await tiered.close();
parentPort.postMessage({ wrong, answered: results.length, loaderCalls: stats.loader.calls, coalesced: stats.coalesced });
