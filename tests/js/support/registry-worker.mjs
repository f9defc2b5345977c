// tests/js/support/registry-worker.mjs: one worker_thread of tests/js/workers.test.ts. Opens the
// named cache through the package, writes its own keys while reading everyone's, waits at a
// barrier until every writer is done, then reads every writer's keys and reports what it saw.

import { parentPort, workerData } from 'node:worker_threads';

// By path: the nearest package.json (tests/js/) is not tickcache's, so 'tickcache' would not resolve.
import { openCache } from '../../../dist/esm/index.js';

const { name, id, writers, keysPerWriter, barrier } = workerData;
const arrived = new Int32Array(barrier);

const cache = await openCache(name, { backend: 'native' });
let seenWhileWriting = 0;
for (let i = 0; i < keysPerWriter; i++) {
  cache.set(`w${id}:${i}`, { writer: id, i, note: 'x'.repeat(i % 50) });
  // Read another writer's recent key while both write: concurrent reads and writes.
  const other = (id + 1) % writers;
  if (cache.get(`w${other}:${i}`) !== undefined) seenWhileWriting++;
}
Atomics.add(arrived, 0, 1);
Atomics.notify(arrived, 0);
while (Atomics.load(arrived, 0) < writers) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 50);

const seen = new Array(writers).fill(0);
let wrong = 0;
for (let w = 0; w < writers; w++) {
  for (let i = 0; i < keysPerWriter; i++) {
    const value = cache.get(`w${w}:${i}`);
    if (value === undefined) continue;
    if (value.writer !== w || value.i !== i) wrong++;
    seen[w]++;
  }
}
const size = cache.size;
cache.close();
parentPort.postMessage({ id, seen, wrong, seenWhileWriting, size, backend: cache.backend });
